/**
 * The node lifecycle controller (kube-controller-manager's nodelifecycle, taint-based eviction
 * included): every `monitorPeriodMs` it looks at every Node and its Lease in kube-node-lease
 * (health.ts decides):
 * - a node silent for longer than the grace period gets its conditions set Unknown and an Event
 *   `NodeNotReady`; when a node this controller saw Ready stops being Ready, the Ready condition of
 *   each of its Pods is set False at once (MarkPodsNotReady), so the EndpointSlice controller marks
 *   their endpoints not ready and the proxies stop sending traffic there;
 * - lifecycle taints follow the Ready condition (unreachable / not-ready, NoSchedule + NoExecute);
 * - a Pod on a NoExecute-tainted node is deleted when its toleration runs out (`--pod-eviction-timeout`
 *   for Pods that say nothing), and its ReplicaSet or StatefulSet replaces it on a live node; the
 *   Pod stays Terminating until its node returns and ends it (as in Kubernetes).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { Controller, ControllerContext } from '../context.js';
import type { EventRecorder } from '../events.js';
import { lifecycleTaints, notReadyStatus, podsToEvict, readyStatus, silentConditions, taintsDiffer } from './health.js';

export interface NodeLifecycleOptions {
  /** `--node-monitor-grace-period`: silence after which a node is unreachable (ms). Default 40 000. */
  gracePeriodMs?: number;
  /** `--pod-eviction-timeout`: how long Pods that say nothing stay on an unreachable node (ms). Default 300 000. */
  podEvictionTimeoutMs?: number;
  /** How often nodes are checked (ms). Default min(5 000, grace / 4). */
  monitorPeriodMs?: number;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  private readonly recorder: EventRecorder;
  private readonly grace: number;
  private readonly eviction: number;
  private timer?: NodeJS.Timeout;
  private running = false;
  private round: Promise<void> = Promise.resolve();
  /** When this controller first saw each node (the grace period never starts before). */
  private readonly firstObserved = new Map<string, number>();
  /** The Ready status this controller last observed per node (transitions trigger MarkPodsNotReady). */
  private readonly observedReady = new Map<string, string>();

  constructor(private readonly ctx: ControllerContext, private readonly o: NodeLifecycleOptions = {}) {
    this.recorder = ctx.recorder('node-controller');
    this.grace = o.gracePeriodMs ?? 40_000;
    this.eviction = o.podEvictionTimeoutMs ?? 300_000;
    // Registered now so the informers are started (and synced) with the others.
    ctx.informers.informer<Node>(R.nodes);
    ctx.informers.informer<Lease>(R.leases);
    ctx.informers.informer<Pod>(R.pods);
  }

  run(): void {
    this.running = true;
    const period = this.o.monitorPeriodMs ?? Math.max(100, Math.min(5000, this.grace / 4));
    this.timer = setInterval(() => { this.kick(); }, period);
    this.timer.unref?.();
    this.kick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
  }

  whenIdle(): Promise<void> {
    return this.round;
  }

  private kick(): void {
    this.round = this.round.then(() => (this.running ? this.monitor() : undefined)).catch(() => undefined);
  }

  /** One pass over every node. Exposed for tests. */
  async monitor(): Promise<void> {
    const inf = this.ctx.informers;
    const now = this.ctx.now();
    const leases = new Map(inf.informer<Lease>(R.leases).listNamespace('kube-node-lease').map((l) => [l.metadata!.name!, l]));
    const pods = inf.informer<Pod>(R.pods).list();
    const nodes = inf.informer<Node>(R.nodes).list();
    for (const name of [...this.firstObserved.keys()]) if (!nodes.some((n) => n.metadata?.name === name)) { this.firstObserved.delete(name); this.observedReady.delete(name); }
    for (const cached of nodes) {
      const name = cached.metadata!.name!;
      if (!this.firstObserved.has(name)) this.firstObserved.set(name, now.getTime());
      try {
        await this.checkNode(cached, leases.get(name), pods.filter((p) => p.spec?.nodeName === name), now);
      } catch (e) {
        if (!isConflict(e) && !isNotFound(e)) throw e; // the next pass sees the newer Node
      }
    }
  }

  private async checkNode(cached: Node, lease: Lease | undefined, pods: Pod[], now: Date): Promise<void> {
    const name = cached.metadata!.name!;
    const c = this.ctx.client;
    let node = cached;
    const conditions = silentConditions(node, lease, now, this.grace, this.firstObserved.get(name)!);
    if (conditions) {
      node = await c.update<Node>(R.nodes, undefined, { ...node, status: { ...node.status, conditions } }, { subresource: 'status' });
    }
    const ready = readyStatus(node);
    const before = this.observedReady.get(name);
    this.observedReady.set(name, ready);
    if (before === 'True' && ready !== 'True') {
      this.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      for (const p of pods) {
        const status = notReadyStatus(p, now);
        if (!status) continue;
        try {
          await c.update<Pod>(R.pods, p.metadata!.namespace, { ...p, status }, { subresource: 'status' });
          this.recorder.event(p, 'Warning', 'NodeNotReady', 'Node is not ready');
        } catch (e) {
          if (!isNotFound(e) && !isConflict(e)) throw e;
        }
      }
    }
    const taints = lifecycleTaints(node, now);
    if (taintsDiffer(node.spec?.taints ?? [], taints)) {
      const fresh = await c.get<Node>(R.nodes, undefined, name);
      node = await c.update<Node>(R.nodes, undefined, { ...fresh, spec: { ...fresh.spec, taints: lifecycleTaints(fresh, now) } });
    }
    for (const p of podsToEvict(pods, node.spec?.taints ?? [], now, this.eviction)) {
      this.recorder.event(p, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${p.metadata!.namespace}/${p.metadata!.name}`);
      try {
        await c.delete(R.pods, p.metadata!.namespace, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }
}
