/**
 * Events the agent records about Pods (source component "kubelet", as `kubectl describe` shows them).
 * Best effort: a failed write is logged, never retried, and never blocks the Pod's work.
 */
import { randomBytes } from 'node:crypto';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';

/** Records one Event about `pod`. */
export async function recordPodEvent(client: Client, nodeName: string, pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): Promise<void> {
  const now = new Date().toISOString();
  const ns = pod.metadata?.namespace ?? 'default';
  const ev: Event = {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: `${pod.metadata?.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace: ns },
    involvedObject: {
      apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata?.name, uid: pod.metadata?.uid,
      resourceVersion: pod.metadata?.resourceVersion, ...(fieldPath ? { fieldPath } : {}),
    },
    reason, message, type, count: 1, firstTimestamp: now, lastTimestamp: now,
    source: { component: 'kubelet', host: nodeName },
    reportingComponent: 'kubelet', reportingInstance: nodeName,
  };
  try {
    await client.create(R.events, ns, ev);
  } catch {
    // Events are advisory; the namespace may be going away.
  }
}
