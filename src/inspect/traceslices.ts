/**
 * Which endpoints an EndpointSlice write added, removed or changed, and why (pure). The reasons
 * come from the Pods the controller looked at for that write: a Pod that became ready or unready
 * (with its Ready condition's reason and message), one that is terminating, one that was deleted or
 * no longer matches the selector.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { EndpointNote } from './tracemodel.js';

export interface SliceDelta {
  ready: number;
  notReady: number;
  added: EndpointNote[];
  removed: EndpointNote[];
  changed: EndpointNote[];
}

const podKey = (ep: Endpoint): string | undefined =>
  ep.targetRef?.kind === 'Pod' && ep.targetRef.name ? `${ep.targetRef.namespace ?? ''}/${ep.targetRef.name}` : undefined;

const isReady = (ep: Endpoint): boolean => ep.conditions?.ready !== false;

function readyCondition(pod: Pod | undefined): string {
  const c = pod?.status?.conditions?.find((x) => x.type === 'Ready');
  if (!c || c.status === 'True') return '';
  const why = [c.reason, c.message].filter(Boolean).join(': ');
  return why ? ` (${why})` : '';
}

function podName(key: string | undefined): string {
  return key ? key.slice(key.indexOf('/') + 1) : '';
}

/**
 * The difference between `before` and `after` (either may be absent: a create or a delete).
 * `pods` are the Pods the write was computed from (those the selector matches), by `namespace/name`.
 */
export function sliceDelta(before: EndpointSlice | undefined, after: EndpointSlice | undefined, pods: ReadonlyMap<string, Pod>): SliceDelta {
  const byIP = (s: EndpointSlice | undefined) => {
    const m = new Map<string, Endpoint>();
    for (const ep of s?.endpoints ?? []) for (const ip of ep.addresses ?? []) m.set(ip, ep);
    return m;
  };
  const old = byIP(before);
  const now = byIP(after);
  const out: SliceDelta = { ready: 0, notReady: 0, added: [], removed: [], changed: [] };
  for (const [ip, ep] of now) {
    if (isReady(ep)) out.ready++; else out.notReady++;
    const key = podKey(ep);
    const who = key ? `Pod ${podName(key)}` : `endpoint ${ip}`;
    const pod = key ? pods.get(key) : undefined;
    const prev = old.get(ip);
    const terminating = ep.conditions?.terminating === true;
    if (!prev) {
      const reason = isReady(ep) ? `${who} ready` : terminating ? `${who} terminating` : `${who} not ready yet${readyCondition(pod)}`;
      out.added.push({ ip, ...(key ? { pod: key } : {}), ready: isReady(ep), reason });
      continue;
    }
    if (isReady(prev) === isReady(ep) && (prev.conditions?.terminating === true) === terminating && (prev.conditions?.serving !== false) === (ep.conditions?.serving !== false)) continue;
    let reason: string;
    if (terminating && prev.conditions?.terminating !== true) reason = `${who} terminating${isReady(ep) ? '' : ', no longer ready'}`;
    else if (isReady(ep) && !isReady(prev)) reason = `${who} became ready`;
    else if (!isReady(ep) && isReady(prev)) reason = `${who} became unready${readyCondition(pod)}`;
    else reason = `${who} serving=${ep.conditions?.serving !== false}`;
    out.changed.push({ ip, ...(key ? { pod: key } : {}), ready: isReady(ep), reason });
  }
  for (const [ip, ep] of old) {
    if (now.has(ip)) continue;
    const key = podKey(ep);
    const pod = key ? pods.get(key) : undefined;
    let reason: string;
    if (!key) reason = `endpoint ${ip} removed`;
    else if (!pod) reason = `Pod ${podName(key)} deleted (or no longer matches the selector)`;
    else if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') reason = `Pod ${podName(key)} ${pod.status.phase}`;
    else if (pod.status?.podIP && pod.status.podIP !== ip) reason = `Pod ${podName(key)} has a new IP ${pod.status.podIP}`;
    else reason = `Pod ${podName(key)} no longer an endpoint`;
    out.removed.push({ ip, ...(key ? { pod: key } : {}), reason });
  }
  return out;
}

/** Short words for a delta: "+2 ready (Pod web-1 ready, ...), −1 (Pod web-3 deleted)". */
export function describeDelta(d: SliceDelta): string {
  const parts: string[] = [];
  const list = (notes: EndpointNote[]) => notes.slice(0, 3).map((n) => n.reason).join(', ') + (notes.length > 3 ? `, +${notes.length - 3} more` : '');
  if (d.added.length) parts.push(`+${d.added.length} (${list(d.added)})`);
  if (d.changed.length) parts.push(`~${d.changed.length} (${list(d.changed)})`);
  if (d.removed.length) parts.push(`−${d.removed.length} (${list(d.removed)})`);
  return parts.join('; ') || 'no endpoint changed';
}
