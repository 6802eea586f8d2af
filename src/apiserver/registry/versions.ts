/**
 * Conversion between the versions a resource is served at. Objects are stored at one version (the
 * catalog's `storageVersion`); a request at another version has its body converted to the storage
 * version before the write path sees it, and every object it gets back converted to its version —
 * as kube-apiserver converts through its internal version.
 *
 * - Custom resources use the `None` strategy (only apiVersion changes), which is the only one a
 *   CRD without a conversion webhook has.
 * - autoscaling/v1 HorizontalPodAutoscalers are converted to and from v2 as Kubernetes does:
 *   targetCPUUtilizationPercentage ↔ a cpu Utilization metric; what v1 cannot express (other
 *   metrics, behavior, conditions) travels in the `autoscaling.alpha.kubernetes.io/*` annotations.
 */
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HpaV2, MetricSpec } from 'kubernetes-types/autoscaling/v2.js';
import { deepCopy, type KubeObject } from '../../api/object.js';
import { storageVersionOf, type ResourceInfo } from '../../api/resources.js';

/** Whether requests at `info` need conversion (their version is not the storage version). */
export function needsConversion(info: ResourceInfo): boolean {
  return storageVersionOf(info) !== info.version;
}

const apiVersionOf = (group: string, version: string): string => (group ? `${group}/${version}` : version);

const ANN_METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const ANN_CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const ANN_CURRENT = 'autoscaling.alpha.kubernetes.io/current-metrics';
const ANN_BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';

function isCpuUtilization(m: MetricSpec): boolean {
  return m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization';
}

/** autoscaling/v2 → v1 (Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler). */
function hpaV2toV1(o: HpaV2): HpaV1 {
  const md = { ...o.metadata, annotations: { ...o.metadata?.annotations } };
  const metrics = o.spec?.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) md.annotations[ANN_METRICS] = JSON.stringify(others);
  if (o.spec?.behavior) md.annotations[ANN_BEHAVIOR] = JSON.stringify(o.spec.behavior);
  if (o.status?.conditions?.length) md.annotations[ANN_CONDITIONS] = JSON.stringify(o.status.conditions);
  const curCpu = o.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const curOthers = (o.status?.currentMetrics ?? []).filter((m) => m !== curCpu);
  if (curOthers.length) md.annotations[ANN_CURRENT] = JSON.stringify(curOthers);
  if (Object.keys(md.annotations).length === 0) delete (md as { annotations?: unknown }).annotations;
  const out: HpaV1 = {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: md,
    spec: {
      scaleTargetRef: o.spec!.scaleTargetRef, maxReplicas: o.spec!.maxReplicas,
      ...(o.spec?.minReplicas !== undefined ? { minReplicas: o.spec.minReplicas } : {}),
      ...(cpu?.resource?.target?.averageUtilization !== undefined ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}),
    },
  };
  if (o.status) {
    out.status = {
      currentReplicas: o.status.currentReplicas ?? 0, desiredReplicas: o.status.desiredReplicas,
      ...(o.status.lastScaleTime ? { lastScaleTime: o.status.lastScaleTime } : {}),
      ...(o.status.observedGeneration !== undefined ? { observedGeneration: o.status.observedGeneration } : {}),
      ...(curCpu?.resource?.current?.averageUtilization !== undefined ? { currentCPUUtilizationPercentage: curCpu.resource.current.averageUtilization } : {}),
    };
  }
  return out;
}

function parseAnnotation<T>(md: Record<string, string> | undefined, key: string): T | undefined {
  const v = md?.[key];
  if (v === undefined) return undefined;
  try { return JSON.parse(v) as T; } catch { return undefined; }
}

/** autoscaling/v1 → v2 (Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler). */
function hpaV1toV2(o: HpaV1): HpaV2 {
  const ann = { ...o.metadata?.annotations };
  const metrics: MetricSpec[] = [];
  const pct = o.spec?.targetCPUUtilizationPercentage;
  if (pct !== undefined && pct !== null) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } });
  metrics.push(...parseAnnotation<MetricSpec[]>(ann, ANN_METRICS) ?? []);
  const behavior = parseAnnotation<NonNullable<HpaV2['spec']>['behavior']>(ann, ANN_BEHAVIOR);
  const conditions = parseAnnotation<NonNullable<HpaV2['status']>['conditions']>(ann, ANN_CONDITIONS);
  const current = parseAnnotation<NonNullable<HpaV2['status']>['currentMetrics']>(ann, ANN_CURRENT);
  for (const k of [ANN_METRICS, ANN_BEHAVIOR, ANN_CONDITIONS, ANN_CURRENT]) delete ann[k];
  const md = { ...o.metadata, annotations: ann };
  if (Object.keys(ann).length === 0) delete (md as { annotations?: unknown }).annotations;
  const out: HpaV2 = {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: md,
    spec: {
      scaleTargetRef: o.spec?.scaleTargetRef as NonNullable<HpaV2['spec']>['scaleTargetRef'], maxReplicas: o.spec?.maxReplicas as number,
      ...(o.spec?.minReplicas !== undefined ? { minReplicas: o.spec.minReplicas } : {}),
      ...(metrics.length ? { metrics } : {}),
      ...(behavior ? { behavior } : {}),
    },
  };
  if (o.status) {
    const cm = [...(o.status.currentCPUUtilizationPercentage !== undefined
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: o.status.currentCPUUtilizationPercentage } } }] : []), ...current ?? []];
    out.status = {
      currentReplicas: o.status.currentReplicas, desiredReplicas: o.status.desiredReplicas,
      ...(o.status.lastScaleTime ? { lastScaleTime: o.status.lastScaleTime } : {}),
      ...(o.status.observedGeneration !== undefined ? { observedGeneration: o.status.observedGeneration } : {}),
      ...(cm.length ? { currentMetrics: cm as NonNullable<HpaV2['status']>['currentMetrics'] } : {}),
      ...(conditions ? { conditions } : {}),
    };
  }
  return out;
}

/**
 * `obj` (of `info`'s group and kind, at whatever version it carries) at `version`. Returns `obj`
 * itself when it is already there; otherwise a new object (the input is not modified).
 */
export function convertObject(info: ResourceInfo, obj: KubeObject, version: string): KubeObject {
  const target = apiVersionOf(info.group, version);
  if (obj.apiVersion === target) return obj;
  if (info.group === 'autoscaling' && info.kind === 'HorizontalPodAutoscaler') {
    if (version === 'v1') return hpaV2toV1(obj as HpaV2) as KubeObject;
    if (version === 'v2') return hpaV1toV2(obj as HpaV1) as KubeObject;
  }
  // None: the same fields under another apiVersion.
  const out = deepCopy(obj);
  (out as { apiVersion?: string }).apiVersion = target;
  return out;
}

/** A request body at `info`'s version, converted to the storage version (a new object). */
export function toStorageVersion(info: ResourceInfo, obj: KubeObject): KubeObject {
  if (!needsConversion(info)) return obj;
  const withVersion = obj.apiVersion ? obj : { ...obj, apiVersion: apiVersionOf(info.group, info.version) };
  return convertObject(info, withVersion, storageVersionOf(info));
}

/** A stored object as `info`'s version sees it. */
export function fromStorageVersion(info: ResourceInfo, obj: KubeObject): KubeObject {
  return needsConversion(info) ? convertObject(info, obj, info.version) : obj;
}
