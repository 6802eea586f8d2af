/**
 * Pure decisions of the StatefulSet controller (defaultStatefulSetControl, simplified to what a
 * single machine needs): stable Pods `<sts>-0..N-1`, created in order and, with the OrderedReady
 * policy, one at a time waiting for each to be Running and Ready; scale-down from the highest
 * ordinal; rolling update from the highest ordinal down to `partition`; terminal Pods replaced.
 */
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { deepCopy } from '../../api/object.js';
import { canonicalJson, fnv32a, safeEncodeString } from '../util/templatehash.js';
import { controllerRef, isPodAvailable, isPodReady, isPodTerminal } from '../util/pods.js';

export const LABEL_POD_NAME = 'statefulset.kubernetes.io/pod-name';
export const LABEL_REVISION = 'controller-revision-hash';
export const LABEL_POD_INDEX = 'apps.kubernetes.io/pod-index';

export interface StatefulSetPlan {
  create: Pod[];
  delete: Pod[];
  status: StatefulSetStatus;
}

/** `<sts>-<hash of template>`: the revision a Pod was made from. */
export function updateRevision(sts: StatefulSet): string {
  return `${sts.metadata?.name}-${safeEncodeString(String(fnv32a(canonicalJson(sts.spec?.template ?? {}))))}`;
}

/** The ordinal in a Pod name `<sts>-<n>`, or -1. */
export function ordinalOf(sts: StatefulSet, pod: Pod): number {
  const prefix = `${sts.metadata?.name}-`;
  const name = pod.metadata?.name ?? '';
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

/** The Pod for ordinal `ord` (identity: name, hostname, subdomain, labels, owner). */
export function newStatefulPod(sts: StatefulSet, ord: number): Pod {
  const name = `${sts.metadata?.name}-${ord}`;
  const t = deepCopy(sts.spec?.template ?? {});
  const spec = { ...(t.spec ?? { containers: [] }), hostname: name };
  if (sts.spec?.serviceName) spec.subdomain = sts.spec.serviceName;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...(t.metadata ?? {}), name, namespace: sts.metadata?.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [LABEL_POD_NAME]: name, [LABEL_REVISION]: updateRevision(sts), [LABEL_POD_INDEX]: String(ord) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata?.name ?? '', uid: sts.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

const healthy = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p) && !p.metadata?.deletionTimestamp;

/** Plans one sync of `sts`; `pods` are candidates (only those it controls are used). */
export function planStatefulSet(sts: StatefulSet, pods: Pod[], now: Date): StatefulSetPlan {
  const replicas = sts.spec?.replicas ?? 1;
  const ordered = (sts.spec?.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const rev = updateRevision(sts);
  const byOrd = new Map<number, Pod>();
  for (const p of pods) {
    if (controllerRef(p)?.uid !== sts.metadata?.uid) continue;
    const o = ordinalOf(sts, p);
    if (o >= 0) byOrd.set(o, p);
  }
  const plan: StatefulSetPlan = { create: [], delete: [], status: {} as StatefulSetStatus };
  const act = !sts.metadata?.deletionTimestamp;
  let blocked = false;
  if (act) {
    // Replace terminal Pods (they are deleted, then recreated under the same name).
    for (const [, p] of [...byOrd].sort(([a], [b]) => a - b)) {
      if (isPodTerminal(p) && !p.metadata?.deletionTimestamp) { plan.delete.push(p); if (ordered) { blocked = true; break; } }
    }
    for (let o = 0; o < replicas && !blocked; o++) {
      const p = byOrd.get(o);
      if (!p) {
        plan.create.push(newStatefulPod(sts, o));
        if (ordered) blocked = true;
        continue;
      }
      if (ordered && !healthy(p)) blocked = true;
    }
    const condemned = [...byOrd.keys()].filter((o) => o >= replicas).sort((a, b) => b - a);
    if (!blocked) {
      for (const o of condemned) {
        const p = byOrd.get(o)!;
        if (p.metadata?.deletionTimestamp) { if (ordered) { blocked = true; break; } continue; }
        plan.delete.push(p);
        if (ordered) { blocked = true; break; }
      }
    }
    // Rolling update: highest ordinal first, down to the partition, one Pod at a time.
    if (!blocked && (sts.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
      const allHealthy = [...byOrd.values()].every(healthy);
      for (let o = replicas - 1; o >= partition && allHealthy; o--) {
        const p = byOrd.get(o);
        if (p && p.metadata?.labels?.[LABEL_REVISION] !== rev) { plan.delete.push(p); break; }
      }
    }
  }
  const current = [...byOrd.values()];
  const minReady = sts.spec?.minReadySeconds ?? 0;
  const updated = current.filter((p) => p.metadata?.labels?.[LABEL_REVISION] === rev).length;
  plan.status = {
    observedGeneration: sts.metadata?.generation ?? 0,
    replicas: current.length,
    readyReplicas: current.filter(isPodReady).length,
    availableReplicas: current.filter((p) => isPodAvailable(p, minReady, now)).length,
    currentReplicas: updated === current.length ? current.length : current.length - updated,
    updatedReplicas: updated,
    currentRevision: updated === current.length ? rev : sts.status?.currentRevision ?? rev,
    updateRevision: rev,
    collisionCount: sts.status?.collisionCount ?? 0,
  };
  return plan;
}
