/**
 * Pure rollout logic of the Deployment controller (k8s.io/kubernetes/pkg/controller/deployment):
 * find or create the ReplicaSet of the current template, scale it and the old ones within
 * maxSurge/maxUnavailable (RollingUpdate) or old-to-zero-first (Recreate), prune history beyond
 * revisionHistoryLimit, and compute status with the Available/Progressing conditions.
 *
 * One call plans one step; the controller applies it and is triggered again by the ReplicaSet
 * and Pod changes that follow, as in Kubernetes.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { deepCopy } from '../../api/object.js';
import { controllerRef } from '../util/pods.js';
import { canonicalJson } from '../util/templatehash.js';

type IntOrString = number | string;
import { LABEL_POD_TEMPLATE_HASH, computeTemplateHash, templatesEqual } from './hash.js';

export const ANNOTATION_REVISION = 'deployment.kubernetes.io/revision';
export const ANNOTATION_DESIRED = 'deployment.kubernetes.io/desired-replicas';
export const ANNOTATION_MAX = 'deployment.kubernetes.io/max-replicas';

export interface DeploymentPlan {
  /** A new ReplicaSet to create (the current template has none yet). */
  create?: ReplicaSet;
  /** ReplicaSets to write (new spec.replicas and/or annotations). */
  update: ReplicaSet[];
  /** Old ReplicaSets beyond revisionHistoryLimit. */
  delete: ReplicaSet[];
  /** Events (ScalingReplicaSet). */
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  /** The status to report. */
  status: DeploymentStatus;
  /** deployment.kubernetes.io/revision for the Deployment ('' when unknown). */
  revision: string;
  /** True when the rollout is complete. */
  complete: boolean;
}

/** Resolves an int-or-percent against `total` (intstr.GetScaledValueFromIntOrPercent). */
export function scaled(v: IntOrString | undefined, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) return Number(x) || 0;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/** maxSurge and maxUnavailable; both zero becomes maxUnavailable 1 (ResolveFenceposts). */
export function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { surge: 0, unavailable: replicas };
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaled(ru?.maxSurge, replicas, true, '25%');
  let unavailable = scaled(ru?.maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

const rev = (rs: ReplicaSet) => Number(rs.metadata?.annotations?.[ANNOTATION_REVISION] ?? '0') || 0;
const created = (rs: ReplicaSet) => Date.parse(rs.metadata?.creationTimestamp ?? '') || 0;
const byAge = (a: ReplicaSet, b: ReplicaSet) => created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

function setCondition(conds: DeploymentCondition[], c: Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>, now: string, touch: boolean): DeploymentCondition[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason && cur.message === c.message && !touch) return conds;
  const next: DeploymentCondition = { ...c, lastUpdateTime: now, lastTransitionTime: cur && cur.status === c.status ? cur.lastTransitionTime : now };
  return [...conds.filter((x) => x.type !== c.type), next].sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
}

/**
 * Plans one sync of `d` given the ReplicaSets it owns. `now` stamps conditions and checks the
 * progress deadline.
 */
export function planDeployment(d: Deployment, owned: ReplicaSet[], now: Date): DeploymentPlan {
  const replicas = d.spec?.replicas ?? 1;
  const { surge, unavailable } = fenceposts(d);
  const name = d.metadata?.name ?? '';
  const events: DeploymentPlan['events'] = [];
  const sorted = [...owned].sort(byAge);
  const existingNew = sorted.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
  const olds = sorted.filter((rs) => rs !== existingNew);
  const maxOldRev = Math.max(0, ...olds.map(rev));
  const newRevision = String(maxOldRev + 1);
  // Working copy of spec.replicas per ReplicaSet name; changes become updates.
  const want = new Map<string, number>(sorted.map((rs) => [rs.metadata!.name!, rs.spec?.replicas ?? 0]));
  const touched = new Set<string>();
  const scale = (rs: ReplicaSet, to: number) => {
    const from = want.get(rs.metadata!.name!) ?? 0;
    if (from === to) return;
    want.set(rs.metadata!.name!, to);
    touched.add(rs.metadata!.name!);
    events.push({ type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata!.name} to ${to}` });
  };
  const specSum = (list: ReplicaSet[]) => list.reduce((n, rs) => n + (want.get(rs.metadata!.name!) ?? 0), 0);
  const paused = d.spec?.paused === true;
  let newRS = existingNew;
  let create: ReplicaSet | undefined;
  let progressingReason: { reason: string; message: string } | undefined;

  if (!newRS && !paused && !d.metadata?.deletionTimestamp) {
    const hash = computeTemplateHash(d.spec?.template, d.status?.collisionCount);
    const template = deepCopy(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [LABEL_POD_TEMPLATE_HASH]: hash } };
    let initial: number;
    if (d.spec?.strategy?.type === 'Recreate') initial = specSum(olds) > 0 || olds.some((o) => (o.status?.replicas ?? 0) > 0) ? 0 : replicas;
    else {
      const current = specSum(olds);
      initial = current === 0 ? replicas : Math.max(0, Math.min(replicas + surge - current, replicas));
    }
    create = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${name}-${hash}`, namespace: d.metadata?.namespace,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: { [ANNOTATION_REVISION]: newRevision, [ANNOTATION_DESIRED]: String(replicas), [ANNOTATION_MAX]: String(replicas + surge) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: initial, minReadySeconds: d.spec?.minReadySeconds,
        selector: { ...deepCopy(d.spec?.selector ?? {}), matchLabels: { ...(d.spec?.selector?.matchLabels ?? {}), [LABEL_POD_TEMPLATE_HASH]: hash } },
        template,
      },
    };
    if (initial > 0) events.push({ type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set ${create.metadata!.name} to ${initial}` });
    progressingReason = { reason: 'NewReplicaSetCreated', message: `Created new replica set "${create.metadata!.name}"` };
  } else if (newRS && !paused && !d.metadata?.deletionTimestamp) {
    const all = sorted;
    if (d.spec?.strategy?.type === 'Recreate') {
      for (const o of olds) scale(o, 0);
      const oldRunning = olds.some((o) => (o.status?.replicas ?? 0) > 0);
      if (!oldRunning) scale(newRS, replicas);
    } else {
      // reconcileNewReplicaSet
      const cur = want.get(newRS.metadata!.name!) ?? 0;
      if (cur > replicas) scale(newRS, replicas);
      else if (cur < replicas) {
        const total = specSum(all);
        const maxTotal = replicas + surge;
        if (total < maxTotal) scale(newRS, cur + Math.min(maxTotal - total, replicas - cur));
      }
      // reconcileOldReplicaSets
      if (!touched.has(newRS.metadata!.name!) && specSum(olds) > 0) {
        const minAvailable = replicas - unavailable;
        const newUnavailable = (want.get(newRS.metadata!.name!) ?? 0) - (newRS.status?.availableReplicas ?? 0);
        const maxScaledDown = specSum(all) - minAvailable - newUnavailable;
        if (maxScaledDown > 0) {
          // First old ReplicaSets' unhealthy replicas...
          let cleaned = 0;
          for (const o of olds) {
            const spec = want.get(o.metadata!.name!) ?? 0;
            if (cleaned >= maxScaledDown || spec === 0) continue;
            const unhealthy = spec - (o.status?.availableReplicas ?? 0);
            if (unhealthy <= 0) continue;
            const down = Math.min(maxScaledDown - cleaned, unhealthy);
            scale(o, spec - down);
            cleaned += down;
          }
          // ...then available ones, keeping minAvailable.
          const available = all.reduce((n, rs) => n + Math.min(rs.status?.availableReplicas ?? 0, want.get(rs.metadata!.name!) ?? 0), 0);
          if (available > minAvailable) {
            let budget = available - minAvailable;
            for (const o of olds) {
              const spec = want.get(o.metadata!.name!) ?? 0;
              if (budget <= 0 || spec === 0) continue;
              const down = Math.min(spec, budget);
              scale(o, spec - down);
              budget -= down;
            }
          }
        }
      }
    }
  }

  const update: ReplicaSet[] = [];
  for (const rs of sorted) {
    const isNew = rs === newRS;
    const r = want.get(rs.metadata!.name!) ?? 0;
    const ann = rs.metadata?.annotations ?? {};
    const needRev = isNew && rev(rs) <= maxOldRev;
    const needAnn = isNew && (ann[ANNOTATION_DESIRED] !== String(replicas) || ann[ANNOTATION_MAX] !== String(replicas + surge));
    if (!touched.has(rs.metadata!.name!) && !needRev && !needAnn) continue;
    const next = deepCopy(rs);
    next.spec = { ...next.spec!, replicas: r };
    next.metadata = { ...next.metadata, annotations: { ...ann, ...(isNew ? { [ANNOTATION_DESIRED]: String(replicas), [ANNOTATION_MAX]: String(replicas + surge) } : {}), ...(needRev ? { [ANNOTATION_REVISION]: newRevision } : {}) } };
    update.push(next);
  }

  // Status, from the ReplicaSets as they are now (their spec as planned).
  const withNew = create ? [...sorted, create] : sorted;
  const sum = (f: (rs: ReplicaSet) => number) => withNew.reduce((n, rs) => n + f(rs), 0);
  const newForStatus = create ?? newRS;
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newForStatus?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: sum((rs) => rs.status?.availableReplicas ?? 0),
  };
  const specTotal = withNew.reduce((n, rs) => n + (rs === create ? rs.spec?.replicas ?? 0 : want.get(rs.metadata!.name!) ?? 0), 0);
  status.unavailableReplicas = Math.max(0, specTotal - (status.availableReplicas ?? 0));
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  let conds: DeploymentCondition[] = [...(d.status?.conditions ?? [])];
  conds = (status.availableReplicas ?? 0) >= replicas - unavailable
    ? setCondition(conds, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, stamp, false)
    : setCondition(conds, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, stamp, false);
  const complete = !!newForStatus && status.updatedReplicas === replicas && status.replicas === replicas &&
    status.availableReplicas === replicas && (newForStatus.spec?.replicas ?? 0) === replicas && olds.every((o) => (want.get(o.metadata!.name!) ?? 0) === 0);
  const rsName = newForStatus?.metadata?.name ?? '';
  if (!paused) {
    if (complete) {
      conds = setCondition(conds, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, stamp, false);
    } else if (progressingReason) {
      conds = setCondition(conds, { type: 'Progressing', status: 'True', ...progressingReason }, stamp, false);
    } else {
      const old = d.status;
      const progressed = touched.size > 0 || (status.updatedReplicas ?? 0) > (old?.updatedReplicas ?? 0) || (status.readyReplicas ?? 0) > (old?.readyReplicas ?? 0) ||
        (status.availableReplicas ?? 0) > (old?.availableReplicas ?? 0) || (status.replicas ?? 0) < (old?.replicas ?? 0) ||
        conds.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable';
      const cur = conds.find((c) => c.type === 'Progressing');
      const deadline = (d.spec?.progressDeadlineSeconds ?? 600) * 1000;
      if (progressed || !cur) {
        conds = setCondition(conds, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }, stamp, true);
      } else if (cur.status === 'True' && now.getTime() - (Date.parse(cur.lastUpdateTime ?? '') || now.getTime()) > deadline) {
        conds = setCondition(conds, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }, stamp, false);
      }
    }
  }
  status.conditions = conds;

  // History: delete the oldest fully scaled-down old ReplicaSets beyond the limit.
  const del: ReplicaSet[] = [];
  if (complete || (!create && !touched.size)) {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const cleanable = olds.filter((o) => (want.get(o.metadata!.name!) ?? 0) === 0 && (o.status?.replicas ?? 0) === 0 && !o.metadata?.deletionTimestamp)
      .sort((a, b) => rev(a) - rev(b) || byAge(a, b));
    if (cleanable.length > limit) del.push(...cleanable.slice(0, cleanable.length - limit));
  }
  const revision = create ? newRevision : newRS ? (update.find((u) => u.metadata?.name === newRS!.metadata?.name)?.metadata?.annotations?.[ANNOTATION_REVISION] ?? String(rev(newRS))) : '';
  return { create, update, delete: del, events, status, revision, complete };
}

/** True when two statuses differ in anything the controller reports. */
export function deploymentStatusChanged(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonicalJson(a ?? {}) !== canonicalJson(b);
}

/** ReplicaSets controlled by `d` (by controller ownerReference uid). */
export function ownedReplicaSets(d: Deployment, candidates: ReplicaSet[]): ReplicaSet[] {
  return candidates.filter((rs) => controllerRef(rs)?.uid === d.metadata?.uid && !rs.metadata?.deletionTimestamp);
}
