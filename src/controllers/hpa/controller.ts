/**
 * HorizontalPodAutoscaler controller: every sync period (15 s, as kube-controller-manager) each HPA
 * reads its target's scale subresource, the Pods its selector matches and their PodMetrics from
 * metrics.k8s.io (through the Client, as the real controller uses the metrics API), lets `planHpa`
 * (pure, plan.ts) decide, scales the target through /scale and writes the HPA's status. The
 * recommendations and scale events of the behavior windows are kept per HPA in memory, as the real
 * controller keeps them.
 */
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import { deepCopy, objectKey, splitKey, type KubeObject } from '../../api/object.js';
import { parseQuantity } from '../../api/quantity.js';
import { R, resourceByKind } from '../../api/resources.js';
import { parseLabelSelector } from '../../api/selectors.js';
import type { ControllerContext } from '../context.js';
import type { EventRecorder } from '../events.js';
import { KeyedController } from '../keyed.js';
import { planHpa, type Recommendation, type ScaleEvent } from './plan.js';

interface PodMetricsItem extends KubeObject { containers?: { name: string; usage?: Record<string, string> }[] }
interface Scale extends KubeObject { spec?: { replicas?: number }; status?: { replicas?: number; selector?: string } }

export class HpaController extends KeyedController {
  readonly name = 'horizontal-pod-autoscaler';
  private readonly recorder: EventRecorder;
  private readonly syncPeriodMs: number;
  private readonly history = new Map<string, { recs: Recommendation[]; events: ScaleEvent[] }>();

  constructor(ctx: ControllerContext, opts: { syncPeriodMs?: number } = {}) {
    super(ctx, R.horizontalpodautoscalers, { workers: 2, baseDelayMs: 100, maxDelayMs: 15_000 });
    this.recorder = ctx.recorder(this.name);
    this.syncPeriodMs = opts.syncPeriodMs ?? 15_000;
    ctx.informers.informer<HorizontalPodAutoscaler>(R.horizontalpodautoscalers).addHandlers({
      onAdd: (h) => this.enqueue(objectKey(h)),
      onUpdate: (a, h) => { if (a.metadata?.generation !== h.metadata?.generation) this.enqueue(objectKey(h)); },
      onDelete: (h) => this.history.delete(objectKey(h)),
    });
    ctx.informers.informer<Pod>(R.pods);
  }

  async sync(key: string): Promise<void> {
    const hpa = this.ctx.informers.informer<HorizontalPodAutoscaler>(R.horizontalpodautoscalers).get(key);
    if (!hpa) return;
    try {
      await this.reconcile(key, hpa);
    } finally {
      // The HPA looks again every sync period, whatever happened (as the real controller's resync).
      if (this.running) this.queue.addAfter(key, this.syncPeriodMs);
    }
  }

  private async reconcile(key: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    const { namespace } = splitKey(key);
    const c = this.ctx.client;
    const ref = hpa.spec!.scaleTargetRef;
    const res = resourceByKind(ref.apiVersion ?? '', ref.kind);
    const now = this.ctx.now();
    const writeStatus = async (status: HorizontalPodAutoscaler['status']): Promise<void> => {
      const cmp = (s: unknown): string => JSON.stringify(s, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v));
      if (cmp(status) === cmp(hpa.status)) return;
      try { await c.update(R.horizontalpodautoscalers, namespace, { ...deepCopy(hpa), status } as KubeObject, { subresource: 'status' }); } catch (e) { if (!isNotFound(e)) throw e; }
    };
    let scale: Scale;
    try {
      if (!res || !res.subresources.includes('scale')) throw new Error(`the server could not find the requested resource (${ref.kind} ${ref.apiVersion})`);
      scale = await c.get<Scale>(res, namespace, ref.name, 'scale');
    } catch (e) {
      const msg = `the HPA controller was unable to get the target's current scale: ${e instanceof Error ? e.message : String(e)}`;
      this.recorder.event(hpa, 'Warning', 'FailedGetScale', msg);
      await writeStatus({ currentReplicas: hpa.status?.currentReplicas ?? 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0,
        conditions: [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: msg, lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z') }] });
      return;
    }
    const selector = scale.status?.selector ?? '';
    const sel = parseLabelSelector(selector);
    const pods = this.ctx.informers.index<Pod>(R.pods).inNamespace(namespace).filter((p) => sel.matches(p.metadata?.labels));
    const usage = new Map<string, number>();
    try {
      const list = await c.list<PodMetricsItem>(R.podmetrics, namespace, { labelSelector: selector });
      for (const m of list.items) {
        usage.set(m.metadata?.name ?? '', (m.containers ?? []).reduce((n, ct) => n + (parseQuantity(ct.usage?.cpu) ?? 0), 0));
      }
    } catch { /* no metrics yet: planHpa reports it */ }
    const h = this.history.get(key) ?? { recs: [], events: [] };
    this.history.set(key, h);
    const plan = planHpa(hpa, { currentReplicas: scale.spec?.replicas ?? 0, pods, cpuUsage: usage, recommendations: h.recs, scaleEvents: h.events }, now);
    const nowMs = now.getTime();
    if (plan.recommendation !== undefined) h.recs.push({ at: nowMs, replicas: plan.recommendation });
    // Keep what the longest window (1 h) can still use.
    h.recs = h.recs.filter((x) => x.at > nowMs - 3600_000);
    h.events = h.events.filter((x) => x.at > nowMs - 1800_000);
    if (plan.scaleTo !== undefined) {
      try {
        await c.update(res!, namespace, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: ref.name, namespace, resourceVersion: scale.metadata?.resourceVersion }, spec: { replicas: plan.scaleTo } } as KubeObject, { subresource: 'scale' });
        h.events.push({ at: nowMs, delta: plan.scaleTo - (scale.spec?.replicas ?? 0) });
      } catch (e) {
        this.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${plan.scaleTo}; error: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
    }
    if (plan.event) this.recorder.event(hpa, plan.event.type, plan.event.reason, plan.event.message);
    await writeStatus(plan.status);
  }
}
