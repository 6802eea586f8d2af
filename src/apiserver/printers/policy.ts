/**
 * `kubectl get poddisruptionbudgets` (NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE) and
 * `kubectl get horizontalpodautoscalers` (NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE) and
 * `kubectl get networkpolicies` (NAME POD-SELECTOR AGE), as printers.go.
 */
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { formatLabelSelector } from './labels.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

/** Printer for policy/v1 PodDisruptionBudget. */
export const pdbPrinter: Printer<PodDisruptionBudget> = {
  columns: [
    NAME_COLUMN,
    col('Min Available', 'string', doc('io.k8s.api.policy.v1.PodDisruptionBudgetSpec', 'minAvailable')),
    col('Max Unavailable', 'string', doc('io.k8s.api.policy.v1.PodDisruptionBudgetSpec', 'maxUnavailable')),
    col('Allowed Disruptions', 'integer', doc('io.k8s.api.policy.v1.PodDisruptionBudgetStatus', 'disruptionsAllowed')),
    AGE_COLUMN,
  ],
  row(p, now) {
    const f = (v: number | string | undefined): string => (v === undefined || v === null ? 'N/A' : String(v));
    return { cells: [p.metadata?.name ?? '', f(p.spec?.minAvailable), f(p.spec?.maxUnavailable), p.status?.disruptionsAllowed ?? 0, ageSince(p.metadata?.creationTimestamp, now)] };
  },
};

/** printers.go formatHPAMetrics: `cpu: 12%/80%`, `<unknown>` before the first measurement, `+ N more...` past 3. */
export function formatHpaTargets(specs: readonly MetricSpec[] | undefined, statuses: readonly MetricStatus[] | undefined): string {
  if (!specs || specs.length === 0) return '<none>';
  const list: string[] = [];
  specs.forEach((s, i) => {
    const st = statuses?.[i];
    if (s.type === 'Resource' && s.resource) {
      const name = s.resource.name;
      const t = s.resource.target;
      if (t?.type === 'Utilization' && t.averageUtilization !== undefined) {
        const cur = st?.resource?.current?.averageUtilization;
        list.push(`${name}: ${cur !== undefined ? `${cur}%` : '<unknown>'}/${t.averageUtilization}%`);
      } else {
        const cur = st?.resource?.current?.averageValue ?? st?.resource?.current?.value;
        list.push(`${name}: ${cur ?? '<unknown>'}/${t?.averageValue ?? t?.value ?? '<unset>'}`);
      }
    } else {
      list.push(`<unknown>/<unknown>`);
    }
  });
  if (list.length > 3) return `${list.slice(0, 3).join(', ')} + ${list.length - 3} more...`;
  return list.join(', ');
}

/** Printer for autoscaling HorizontalPodAutoscaler. */
export const hpaPrinter: Printer<HorizontalPodAutoscaler> = {
  columns: [
    NAME_COLUMN,
    col('Reference', 'string', doc('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec', 'scaleTargetRef')),
    col('Targets', 'string', doc('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec', 'metrics')),
    col('MinPods', 'string', doc('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec', 'minReplicas')),
    col('MaxPods', 'integer', doc('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec', 'maxReplicas')),
    col('Replicas', 'integer', doc('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus', 'currentReplicas')),
    AGE_COLUMN,
  ],
  row(h, now) {
    const ref = h.spec?.scaleTargetRef;
    const min = h.spec?.minReplicas;
    return {
      cells: [h.metadata?.name ?? '', `${ref?.kind ?? ''}/${ref?.name ?? ''}`, formatHpaTargets(h.spec?.metrics, h.status?.currentMetrics),
        min !== undefined && min !== null ? String(min) : '<unset>', h.spec?.maxReplicas ?? 0, h.status?.currentReplicas ?? 0, ageSince(h.metadata?.creationTimestamp, now)],
    };
  },
};

/** Printer for networking.k8s.io/v1 NetworkPolicy: metav1.FormatLabelSelector shows `<none>` for the empty selector. */
export const networkPolicyPrinter: Printer<NetworkPolicy> = {
  columns: [
    NAME_COLUMN,
    col('Pod-Selector', 'string', doc('io.k8s.api.networking.v1.NetworkPolicySpec', 'podSelector')),
    AGE_COLUMN,
  ],
  row(np, now) {
    return { cells: [np.metadata?.name ?? '', formatLabelSelector(np.spec?.podSelector) || '<none>', ageSince(np.metadata?.creationTimestamp, now)] };
  },
};
