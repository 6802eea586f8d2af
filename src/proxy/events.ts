/**
 * Events the proxy records about its Node (source component "kube-proxy", as kube-proxy's own
 * Events are): today one kind, the restart of its long-lived kernel session after that process
 * exited on its own. Best effort: a failed write is logged, never retried, and never blocks a sync.
 */
import { randomBytes } from 'node:crypto';
import type { Event } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import type { SessionRestart } from './session.js';

/** The Event for one supervised restart of the session in `netns` (pure; `now` in ISO form). */
export function sessionRestartEvent(nodeName: string, netns: string, r: SessionRestart, now: string): Event {
  const when = r.delayMs === 0 ? 'at once' : `in ${r.delayMs} ms`;
  return {
    apiVersion: 'v1', kind: 'Event',
    // Node events live in the default namespace, with the node name as uid (as the kubelet's).
    metadata: { name: `${nodeName}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName },
    type: 'Warning', reason: 'KernelSessionRestarted',
    message: `the proxy's long-lived "${r.tool}" in ${netns} ${r.why}; starting it again ${when} (restart ${r.restarts})`,
    count: 1, firstTimestamp: now, lastTimestamp: now,
    source: { component: 'kube-proxy', host: nodeName },
    reportingComponent: 'kube-proxy', reportingInstance: nodeName,
  };
}

/** Records `ev`; logs and swallows a failure. */
export async function recordEvent(client: Client, ev: Event): Promise<void> {
  try {
    await client.create(R.events, 'default', ev);
  } catch (e) {
    console.error(`proxy: could not record Event ${ev.reason}: ${(e as Error).message}`);
  }
}
