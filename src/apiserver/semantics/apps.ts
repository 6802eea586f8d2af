/**
 * Deployment, ReplicaSet and StatefulSet validation (pkg/apis/apps/validation and the apps
 * registry strategies' selector immutability), with Kubernetes' wording.
 */
import type { FieldError } from '../../api/errors.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { type FieldPath, forbidden, invalidField, nonNegative, notSupported, path, required } from './field.js';
import { matchesLabelSelector } from '../../api/selectors.js';
import { selectorIsEmpty, sortedMap, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isValidPercent, nameIsDNSSubdomain } from './namevalidation.js';
import { validatePodTemplateSpec } from './pod.js';

function validateSelector(sel: LabelSelector | undefined, p: FieldPath, emptyMsg: string): FieldError[] {
  if (!sel) return [required(p)];
  const errs = validateLabelSelector(sel, p);
  if (selectorIsEmpty(sel)) errs.push(invalidField(p, sel, emptyMsg));
  return errs;
}

/** ValidatePodTemplateSpecForReplicaSet: labels must match the selector; restartPolicy Always. */
function validateTemplateForSelector(t: PodTemplateSpec | undefined, sel: LabelSelector | undefined, p: FieldPath, owner: string): FieldError[] {
  if (!t) return [required(p)];
  const errs: FieldError[] = [];
  if (!selectorIsEmpty(sel) && !matchesLabelSelector(sel, t.metadata?.labels)) {
    errs.push(invalidField(p.child('metadata', 'labels'), sortedMap(t.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(t, p));
  const rp = t.spec?.restartPolicy;
  if (rp !== 'Always') errs.push(notSupported(p.child('spec', 'restartPolicy'), rp ?? '', ['Always']));
  if (t.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(owner === 'StatefulSet'
      ? invalidField(p.child('spec', 'activeDeadlineSeconds'), t.spec.activeDeadlineSeconds, 'must not be specified')
      : forbidden(p.child('spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

function intOrPercent(v: number | string | undefined, p: FieldPath): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((m) => invalidField(p, v, m));
  if (typeof v === 'number') return nonNegative(v, p);
  return [];
}

function percentOrInt(v: number | string | undefined): { value: number; percent: boolean } {
  if (typeof v === 'string' && /^[0-9]+%$/.test(v)) return { value: Number(v.slice(0, -1)), percent: true };
  return { value: typeof v === 'number' ? v : 0, percent: false };
}

/** ValidateDeployment / ValidateDeploymentUpdate (selector immutable on update, as apps/v1 does). */
export function validateDeployment(d: Deployment, old?: Deployment): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(d.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(d.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const spec = d.spec;
  const sp = path('spec');
  errs.push(...nonNegative(spec?.replicas, sp.child('replicas')));
  errs.push(...validateSelector(spec?.selector, sp.child('selector'), 'empty selector is invalid for deployment'));
  errs.push(...validateTemplateForSelector(spec?.template, spec?.selector, sp.child('template'), 'Deployment'));
  const st = spec?.strategy ?? {};
  const stp = sp.child('strategy');
  if (st.type === 'Recreate') {
    if (st.rollingUpdate) errs.push(forbidden(stp.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
  } else if (st.type === 'RollingUpdate') {
    const ru = st.rollingUpdate;
    if (!ru) errs.push(required(stp.child('rollingUpdate'), 'this should be defaulted and never be nil'));
    else {
      const rp = stp.child('rollingUpdate');
      errs.push(...intOrPercent(ru.maxUnavailable, rp.child('maxUnavailable')));
      errs.push(...intOrPercent(ru.maxSurge, rp.child('maxSurge')));
      if (percentOrInt(ru.maxUnavailable).value === 0 && percentOrInt(ru.maxSurge).value === 0) {
        errs.push(invalidField(rp.child('maxUnavailable'), ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
      const mu = percentOrInt(ru.maxUnavailable);
      if (mu.percent && mu.value > 100) errs.push(invalidField(rp.child('maxUnavailable'), ru.maxUnavailable, 'must not be greater than 100%'));
    }
  } else {
    errs.push(notSupported(stp, st, ['Recreate', 'RollingUpdate']));
  }
  errs.push(...nonNegative(spec?.minReadySeconds, sp.child('minReadySeconds')));
  errs.push(...nonNegative(spec?.revisionHistoryLimit, sp.child('revisionHistoryLimit')));
  if (spec?.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, sp.child('progressDeadlineSeconds')));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalidField(sp.child('progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  if (old) errs.push(...immutableSelector(spec?.selector, old.spec?.selector));
  return errs;
}

function immutableSelector(sel: LabelSelector | undefined, old: LabelSelector | undefined): FieldError[] {
  const norm = (s: LabelSelector | undefined): string => JSON.stringify({ l: sortedMap(s?.matchLabels) ?? {}, e: s?.matchExpressions ?? [] });
  return norm(sel) === norm(old) ? [] : [invalidField(path('spec', 'selector'), selectorValue(sel), 'field is immutable')];
}

/** A LabelSelector as json.Marshal prints it (matchLabels first, keys sorted). */
function selectorValue(s: LabelSelector | undefined): unknown {
  if (!s) return null;
  const out: Record<string, unknown> = {};
  if (s.matchLabels && Object.keys(s.matchLabels).length > 0) out.matchLabels = sortedMap(s.matchLabels);
  if (s.matchExpressions && s.matchExpressions.length > 0) out.matchExpressions = s.matchExpressions;
  return out;
}

/** ValidateReplicaSet / ValidateReplicaSetUpdate. */
export function validateReplicaSet(rs: ReplicaSet, old?: ReplicaSet): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(rs.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const spec = rs.spec;
  const sp = path('spec');
  errs.push(...nonNegative(spec?.replicas, sp.child('replicas')));
  errs.push(...nonNegative(spec?.minReadySeconds, sp.child('minReadySeconds')));
  errs.push(...validateSelector(spec?.selector, sp.child('selector'), 'empty selector is invalid for deployment'));
  errs.push(...validateTemplateForSelector(spec?.template, spec?.selector, sp.child('template'), 'ReplicaSet'));
  if (old) errs.push(...immutableSelector(spec?.selector, old.spec?.selector));
  return errs;
}

/** ValidateStatefulSet / ValidateStatefulSetUpdate. */
export function validateStatefulSet(ss: StatefulSet, old?: StatefulSet): FieldError[] {
  const sp = path('spec');
  if (old) {
    const errs = validateObjectMetaUpdate(ss.metadata, old.metadata, path('metadata'));
    const strip = (s: StatefulSet): string => {
      const { replicas: _r, template: _t, updateStrategy: _u, ordinals: _o, revisionHistoryLimit: _h, persistentVolumeClaimRetentionPolicy: _p, minReadySeconds: _m, ...rest } = s.spec ?? ({} as NonNullable<StatefulSet['spec']>);
      return JSON.stringify(rest, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.keys(x as object).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x));
    };
    if (strip(ss) !== strip(old)) {
      errs.push(forbidden(sp, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
    }
    errs.push(...validateStatefulSetSpec(ss));
    return errs;
  }
  return [...validateObjectMeta(ss.metadata, true, nameIsDNSSubdomain, path('metadata')), ...validateStatefulSetSpec(ss)];
}

function validateStatefulSetSpec(ss: StatefulSet): FieldError[] {
  const spec = ss.spec;
  const sp = path('spec');
  const errs: FieldError[] = [];
  const pmp = spec?.podManagementPolicy;
  if (!pmp) errs.push(required(sp.child('podManagementPolicy')));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalidField(sp.child('podManagementPolicy'), pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = spec?.updateStrategy;
  switch (us?.type) {
    case undefined: case '':
      errs.push(required(sp.child('updateStrategy')));
      break;
    case 'OnDelete':
      if (us.rollingUpdate) errs.push(invalidField(sp.child('updateStrategy', 'rollingUpdate'), us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      errs.push(...nonNegative(us.rollingUpdate?.partition, sp.child('updateStrategy', 'rollingUpdate', 'partition')));
      break;
    default:
      errs.push(invalidField(sp.child('updateStrategy'), us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  errs.push(...nonNegative(spec?.replicas, sp.child('replicas')));
  errs.push(...nonNegative(spec?.minReadySeconds, sp.child('minReadySeconds')));
  errs.push(...validateSelector(spec?.selector, sp.child('selector'), 'empty selector is not valid for statefulset.'));
  errs.push(...validateTemplateForSelector(spec?.template, spec?.selector, sp.child('template'), 'StatefulSet'));
  return errs;
}
