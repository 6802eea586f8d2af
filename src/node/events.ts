/**
 * Events the agent records about Pods (source component "kubelet", as `kubectl describe` shows
 * them), through one EventRecorder per agent: a repeated event (the same reason and message about
 * the same container, e.g. `Readiness probe failed: HTTP probe failed with statuscode: 404` at every
 * failed probe) becomes one Event whose `count` and `lastTimestamp` grow, as client-go's event
 * correlator aggregates the kubelet's; and, as its spam filter does, one event is recorded at most
 * 25 times at once, then once per 5 minutes (a probe failing every second costs the API one write
 * per 5 minutes, not one per second). Best effort: a failed write is logged, never retried, and
 * never blocks the Pod's work.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Client } from '../client/client.js';
import { EventRecorder, SPAM_FILTER_DEFAULTS } from '../controllers/events.js';

/** Records Events about Pods for one node. */
export class PodEvents {
  private readonly recorder: EventRecorder;

  constructor(client: Client, nodeName: string, now?: () => Date) {
    this.recorder = new EventRecorder(client, 'kubelet', { host: nodeName, spamFilter: SPAM_FILTER_DEFAULTS, ...(now ? { now } : {}) });
  }

  /** One event about `pod`; `fieldPath` names the container (`spec.containers{app}`). */
  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    this.recorder.event({ apiVersion: 'v1', kind: 'Pod', ...pod }, type, reason, message, fieldPath);
  }

  /** Resolves once every recorded event is written (tests, agent stop). */
  flush(): Promise<void> {
    return this.recorder.flush();
  }
}
