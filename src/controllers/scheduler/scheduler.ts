/**
 * The scheduler: binds every unscheduled Pod whose schedulerName is default-scheduler to a node
 * through the pods/binding subresource, spreading Pods across nodes. Pods that fit nowhere get a
 * FailedScheduling event and are retried when nodes change (and every few seconds).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { objectKey, splitKey } from '../../api/object.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';
import type { EventRecorder } from '../events.js';
import { isPodTerminal } from '../util/pods.js';
import { selectNode } from './select.js';

export const SCHEDULER_NAME = 'default-scheduler';

function wantsScheduling(p: Pod): boolean {
  return !p.spec?.nodeName && (p.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    !p.metadata?.deletionTimestamp && !isPodTerminal(p);
}

export class Scheduler implements Controller {
  readonly name = SCHEDULER_NAME;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  /** Pods bound by us that the cache may not show yet (pod key → node). */
  private readonly assumed = new Map<string, string>();
  private readonly unschedulable = new Set<string>();
  /** Where each counted Pod is (bound and not terminal), so node load is O(1) to read. */
  private readonly podNode = new Map<string, string>();
  private readonly nodeLoad = new Map<string, number>();
  private running = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: ControllerContext, private readonly opts: { retryMs?: number } = {}) {
    this.recorder = ctx.recorder(SCHEDULER_NAME);
    this.queue = new WorkQueue((k) => this.schedule(k), { workers: 1, baseDelayMs: 20, maxDelayMs: 5000 });
    ctx.informers.informer<Pod>(R.pods).addHandlers({
      onAdd: (p) => { this.count(p); if (this.running && wantsScheduling(p)) this.queue.add(objectKey(p)); },
      onUpdate: (_a, p) => {
        this.count(p);
        if (p.spec?.nodeName) this.assumed.delete(objectKey(p));
        if (this.running && wantsScheduling(p)) this.queue.add(objectKey(p));
      },
      onDelete: (p) => { this.count(p, true); this.assumed.delete(objectKey(p)); this.unschedulable.delete(objectKey(p)); },
    });
    ctx.informers.informer<Node>(R.nodes).addHandlers({
      onAdd: () => this.retryUnschedulable(), onUpdate: () => this.retryUnschedulable(),
    });
  }

  private retryUnschedulable(): void {
    if (!this.running) return;
    for (const k of [...this.unschedulable]) { this.unschedulable.delete(k); this.queue.add(k); }
  }

  run(): void {
    this.running = true;
    for (const p of this.ctx.informers.informer<Pod>(R.pods).list()) if (wantsScheduling(p)) this.queue.add(objectKey(p));
    this.timer = setInterval(() => this.retryUnschedulable(), this.opts.retryMs ?? 5000);
    this.timer.unref?.();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.queue.stop();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private count(p: Pod, deleted = false): void {
    const key = objectKey(p);
    const prev = this.podNode.get(key);
    const next = !deleted && !isPodTerminal(p) ? p.spec?.nodeName : undefined;
    if (prev === next) return;
    if (prev) { this.nodeLoad.set(prev, (this.nodeLoad.get(prev) ?? 1) - 1); this.podNode.delete(key); }
    if (next) { this.nodeLoad.set(next, (this.nodeLoad.get(next) ?? 0) + 1); this.podNode.set(key, next); }
  }

  /** Pods per node: bound ones plus those we bound that the cache does not show yet. */
  private load(): Map<string, number> {
    const m = new Map(this.nodeLoad);
    for (const n of this.assumed.values()) m.set(n, (m.get(n) ?? 0) + 1);
    return m;
  }

  private async schedule(key: string): Promise<void> {
    const pod = this.ctx.informers.informer<Pod>(R.pods).get(key);
    if (!pod || !wantsScheduling(pod) || this.assumed.has(key)) return;
    const nodes = this.ctx.informers.informer<Node>(R.nodes).list();
    const placement = selectNode(pod, nodes, this.load());
    if ('message' in placement) {
      this.unschedulable.add(key);
      this.recorder.event(pod, 'Warning', 'FailedScheduling', placement.message);
      return;
    }
    const { namespace, name } = splitKey(key);
    try {
      await this.ctx.client.create(R.pods, namespace, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: placement.node },
      } as never, { subresource: 'binding', name });
    } catch (e) {
      // Gone, or someone else bound it first: nothing to do.
      if (isNotFound(e) || isConflict(e)) return;
      throw e;
    }
    this.assumed.set(key, placement.node);
    this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${placement.node}`);
  }
}
