/**
 * A recorded change as seed 000's "visual execution" (pure): the process table (Step | +ms |
 * Action | Resource state | Result), the latency split apply → slice → rules → DNS, and the
 * status tracker (the seed's variables across the steps that changed them).
 */
import type { OutsideReachability, TraceChange, TraceState, TraceStep } from './tracemodel.js';
import { applyStep } from './tracerecorder.js';

const ms = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function notes(list: { reason: string }[], max = 2): string {
  return list.slice(0, max).map((n) => n.reason).join(', ') + (list.length > max ? `, +${list.length - max} more` : '');
}

/** The three text cells of one step: action, resource state, result. */
export function stepCells(step: TraceStep, state: TraceState): [string, string, string] {
  switch (step.kind) {
    case 'api-write': {
      const what = `${step.resource}/${step.name}`;
      if (step.resource === 'services') {
        const verbWord = step.verb === 'create' ? 'created' : step.verb === 'delete' ? 'deleted' : 'updated';
        const result = step.verb === 'delete' ? `ClusterIP ${step.clusterIP ?? ''} released`.replace('  ', ' ')
          : step.allocated ? `ClusterIP ${step.clusterIP} assigned${step.ports ? ` (${step.ports})` : ''}`
            : step.clusterIP ? `ClusterIP ${step.clusterIP} kept${step.ports ? ` (${step.ports})` : ''}` : 'no ClusterIP';
        return [`${step.client}: ${step.verb} ${what} → ${step.code}`, `Service ${verbWord}${step.selector ? ` (selector ${step.selector})` : ''}`, result];
      }
      return [`${step.client}: ${step.verb} ${what} → ${step.code}`, `${step.resource.split('/')[0]} ${step.verb === 'delete' ? 'deleted' : 'written'}`, `by ${step.user}`];
    }
    case 'slice-write': {
      const by = step.by === 'endpointslice-controller' ? '' : ` by ${step.by}`;
      const st = step.op === 'delete' ? 'slice deleted' : `${plural(step.ready, 'endpoint')} ready${step.notReady ? `, ${step.notReady} not ready` : ''}`;
      const changes = [...step.added, ...step.changed, ...step.removed];
      const result = changes.length ? notes(changes)
        : step.op === 'delete' ? 'it held no endpoints (the placeholder of an empty Service)'
          : step.ready === 0 ? 'no endpoints: the selector matches no ready Pod' : 'endpoints unchanged';
      return [`EndpointSlice ${step.slice} ${step.op}d${by}`, st, result];
    }
    case 'proxy-sync': {
      const vip = state.clusterIP ?? 'the ClusterIP';
      const result = step.endpoints === undefined ? 'rules updated'
        : step.endpoints < 0 ? `traffic to ${vip} is rejected (no endpoints)`
          : step.endpoints === 0 ? `no rules for ${vip}` : `traffic to ${vip} routes to ${plural(step.endpoints, 'Pod')}`;
      return [`node ${step.node} proxy sync (${step.mode}${step.full ? ', full' : ''}, ${ms(step.durationMs)} ms)`, `+${step.added} −${step.removed} rule lines`, result];
    }
    case 'dns-live':
      return ['DNS record live', step.addresses.length ? `${step.name} → ${step.addresses.join(', ')}` : `${step.name}: NXDOMAIN`,
        step.addresses.length ? 'name resolves in-cluster' : 'name no longer resolves'];
    case 'first-connection':
      return ['first connection via the ClusterIP', `${step.client.name ?? step.client.ip} ${step.client.ip}:${step.client.port} → ${step.vip}:${step.port}/${step.proto}`,
        `reached ${step.backend.pod ? `pod ${step.backend.pod}` : 'endpoint'} ${step.backend.ip}:${step.backend.port}`];
  }
}

/** Pads columns to equal width. */
export function table(rows: string[][], gap = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, [...c].length); });
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join(gap).trimEnd()).join('\n');
}

/** The latency of each stage from the change's start: slice, rules per node, DNS, first connection. */
export function latencySplit(c: TraceChange): string {
  const first = <K extends TraceStep['kind']>(kind: K, pred: (s: Extract<TraceStep, { kind: K }>) => boolean = () => true) =>
    c.steps.find((s) => s.kind === kind && pred(s as Extract<TraceStep, { kind: K }>)) as Extract<TraceStep, { kind: K }> | undefined;
  const parts: string[] = [];
  const slice = first('slice-write');
  if (slice) parts.push(`slice ${ms(slice.at - c.startedAt)} ms`);
  const nodes = [...new Set(c.steps.flatMap((s) => (s.kind === 'proxy-sync' ? [s.node] : [])))];
  for (const n of nodes) parts.push(`rules ${ms(first('proxy-sync', (s) => s.node === n)!.at - c.startedAt)} ms (${n})`);
  const dns = first('dns-live');
  if (dns) parts.push(`DNS ${ms(dns.at - c.startedAt)} ms`);
  const ready = first('proxy-sync', (s) => (s.endpoints ?? 0) > 0);
  if (ready && ready !== first('proxy-sync')) parts.push(`ready endpoints in rules ${ms(ready.at - c.startedAt)} ms`);
  const conn = first('first-connection');
  if (conn) parts.push(`first connection ${ms(conn.at - c.startedAt)} ms`);
  return parts.length ? `latency from the start: ${parts.join(' → ')}` : 'latency: no step after the start yet';
}

function cell(state: TraceState, row: string): string {
  switch (row) {
    case 'Service object': return state.service;
    case 'ClusterIP': return state.clusterIP ?? 'none';
    case 'Ready endpoints': return state.readyEndpoints === undefined ? '?' : String(state.readyEndpoints);
    case 'DNS': return state.dns === undefined ? '?' : state.dns.length ? state.dns.join(',') : 'NXDOMAIN';
    case 'Served by': return state.servedBy ?? '—';
    default: {
      const n = state.rules[row.slice('Rules on '.length)];
      return n === undefined ? 'none' : n < 0 ? 'reject' : `→ ${plural(n, 'Pod')}`;
    }
  }
}

/** The status tracker: one row per variable, a column for the start and after each step that changed something. */
export function statusTracker(c: TraceChange): string {
  return table(trackerRows(c).map((r) => r.map((x) => x.text)));
}

/**
 * The status tracker's cells (header row first); each column names the step it shows the state
 * after (`step`: 0 = start), so the web view can replay it step by step.
 */
export function trackerRows(c: TraceChange): { text: string; step: number }[][] {
  const states: { label: string; s: TraceState; step: number }[] = [{ label: 'start', s: c.before, step: 0 }];
  let s = c.before;
  c.steps.forEach((step, i) => {
    s = applyStep(s, step);
    states.push({ label: `after ${i + 1}`, s, step: i + 1 });
  });
  const nodes = [...new Set(states.flatMap((x) => Object.keys(x.s.rules)))].sort();
  const rows = ['Service object', 'ClusterIP', 'Ready endpoints', ...nodes.map((n) => `Rules on ${n}`), 'DNS', 'Served by'];
  // Keep the start, every step that changed a cell, and the final state (as the seed's tracker does).
  const keep = states.filter((x, i) => i === 0 || i === states.length - 1 || rows.some((r) => cell(x.s, r) !== cell(states[i - 1]!.s, r)));
  const out = [[{ text: 'variable', step: -1 }, ...keep.map((k, i) => ({ text: i === keep.length - 1 && keep.length > 1 ? `${k.label} (final)` : k.label, step: k.step }))]];
  for (const r of rows) out.push([{ text: r, step: -1 }, ...keep.map((k) => ({ text: cell(k.s, r), step: k.step }))]);
  return out;
}

/** The process table rows of a change (header included), numbered from 1. */
export function processRows(c: TraceChange, outside?: OutsideReachability): string[][] {
  const rows = [['step', '+ms', 'action', 'resource state', 'result']];
  let state = c.before;
  c.steps.forEach((step, i) => {
    state = applyStep(state, step);
    rows.push([String(i + 1), ms(step.at - c.startedAt), ...stepCells(step, state)]);
  });
  if (outside) {
    rows.push([String(c.steps.length + 1), '—', 'access from outside the cluster', outside.reachable ? 'outside host has a route' : 'outside host: no route to the Service CIDR',
      outside.reachable ? 'reachable' : 'not reachable (a ClusterIP is internal)']);
  }
  return rows;
}

/** A whole change: header, process table, latency split, status tracker. */
export function renderChange(c: TraceChange, outside?: OutsideReachability): string {
  const head = `change #${c.id}  service ${c.service}  ${new Date(c.startedAt).toISOString()}  cause: ${c.cause}`;
  const parts = [head, table(processRows(c, outside))];
  if (c.droppedSteps) parts.push(`(${c.droppedSteps} more steps not kept: the per-change limit)`);
  if (outside) parts.push(`outside: ${outside.evidence}`);
  parts.push(latencySplit(c), '', 'status tracker', statusTracker(c));
  return parts.join('\n');
}
