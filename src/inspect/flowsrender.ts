/**
 * One flow as one line (pure), both ends and the virtual IP together:
 *
 *   12:00:01.234 default/test-7xk 10.244.0.6:43210 → svc default/nginx-service 10.98.164.45:80 → pod default/nginx-abc 10.244.0.3:80 TCP ESTABLISHED sent 392 B received 615 B
 *   12:00:02.001 default/test-7xk 10.244.0.6:43212 → svc default/lonely 10.101.3.4:80 TCP REJECTED (no endpoints)
 */
import type { FlowRecord, FlowStats } from './flowsmodel.js';

const two = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local wall-clock time with milliseconds. */
export function clock(at: number): string {
  const d = new Date(at);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${two(d.getMilliseconds(), 3)}`;
}

/** `listing`: a line of `flows` without -f (a connection's latest state, 'open' when conntrack names none). */
export function renderFlow(f: FlowRecord, opts: { node?: boolean; listing?: boolean } = {}): string {
  const parts = [clock(f.at)];
  parts.push(`${f.client.name ? `${f.client.name} ` : ''}${f.client.ip}:${f.client.port}`);
  if (f.service) parts.push(`→ svc ${f.service.name ?? '(no Service)'} ${f.service.ip}:${f.service.port}`);
  if (f.backend) parts.push(`→ ${f.backend.pod ? `pod ${f.backend.pod}` : 'endpoint'} ${f.backend.ip}:${f.backend.port}`);
  parts.push(f.proto);
  if (f.event === 'refused') {
    parts.push(`${f.verdict === 'rejected' ? 'REJECTED' : 'DROPPED'} (${f.reason ?? 'refused'})`);
  } else {
    parts.push(f.event === 'destroy' ? 'closed' : f.state ?? (opts.listing ? 'open' : 'NEW'));
    if (f.sent || f.received) parts.push(`sent ${f.sent?.bytes ?? 0} B received ${f.received?.bytes ?? 0} B`);
    if (f.event === 'destroy' && f.durationMs !== undefined) parts.push(`after ${f.durationMs.toFixed(0)} ms`);
  }
  if (f.affinity) {
    parts.push(f.affinity.first ? `[ClientIP affinity ${f.affinity.timeoutSeconds}s: first connection]`
      : f.affinity.sticky ? '[ClientIP affinity: same Pod as before (sticky)]' : '[ClientIP affinity: another Pod (affinity expired)]');
  }
  if (opts.node) parts.push(`(node ${f.node})`);
  return parts.join(' ');
}

/** What the collectors could not show, in words ('' when nothing is missing). */
export function renderStatsProblems(s: FlowStats): string[] {
  const out: string[] = [];
  for (const n of s.nodes) {
    if (!n.ok) out.push(`flows on node ${n.node} unavailable: ${n.missing ?? 'collector not running'}`);
    if (n.overruns && n.lost === 0) out.push(`node ${n.node}: conntrack events were lost (event buffer overrun ×${n.overruns}); how many is counted once traffic calms`);
    if (n.shedding) out.push(`node ${n.node}: more new connections a second than the flows rate limit: not showing them for a while (the kernel counts them)`);
    if (n.lost > 0) out.push(`node ${n.node}: ${n.lost} of ${n.kernelNew} new connections counted by the kernel were not shown (${n.sheds ? 'above the flows rate limit' : ''}${n.sheds && n.overruns ? ', ' : ''}${n.overruns ? 'conntrack event buffer overrun' : ''})`);
  }
  if (s.droppedForSlowReader) out.push(`${s.droppedForSlowReader} flows not sent to this reader (it read too slowly)`);
  return out;
}
