/**
 * RBAC objects (pkg/apis/rbac/validation and v1 defaults) with Kubernetes' wording: Roles and
 * ClusterRoles (rules; a ClusterRole's aggregationRule), RoleBindings and ClusterRoleBindings
 * (roleRef, which never changes, and subjects).
 */
import type { FieldError } from '../../api/errors.js';
import type { AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { type FieldPath, eachInvalid, invalidField, notSupported, path, required } from './field.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { nameIsDNSSubdomain, type NameValidator } from './namevalidation.js';

/** The RBAC API group. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** path.IsValidPathSegmentName: RBAC names are path segments, not DNS names. */
export const nameIsPathSegment: NameValidator = (name) => {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
};

/** SetDefaults_Subject / SetDefaults_*Binding: apiGroups of users, groups and the roleRef. */
export function defaultBinding(b: RoleBinding | ClusterRoleBinding): void {
  const ref = b.roleRef as { apiGroup?: string } | undefined;
  if (ref && !ref.apiGroup) ref.apiGroup = RBAC_GROUP;
  for (const s of (b.subjects ?? []) as { kind?: string; apiGroup?: string }[]) {
    if (s.apiGroup === undefined || s.apiGroup === '') {
      if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
      else if (s.kind === 'ServiceAccount') s.apiGroup = '';
    }
  }
}

/** ValidatePolicyRule. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!(rule.verbs ?? []).length) errs.push(required(p.child('verbs'), 'verbs must contain at least one value'));
  if ((rule.nonResourceURLs ?? []).length) {
    if (namespaced) errs.push(invalidField(p.child('nonResourceURLs'), rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length || (rule.resources ?? []).length || (rule.resourceNames ?? []).length) {
      errs.push(invalidField(p.child('nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!(rule.apiGroups ?? []).length) errs.push(required(p.child('apiGroups'), 'resource rules must supply at least one api group'));
  if (!(rule.resources ?? []).length) errs.push(required(p.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(rules: readonly PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r, namespaced, path('rules').index(i)));
}

function validateAggregationRule(a: AggregationRule | undefined): FieldError[] {
  if (!a) return [];
  const p = path('aggregationRule', 'clusterRoleSelectors');
  if (!(a.clusterRoleSelectors ?? []).length) return [required(p, 'at least one clusterRoleSelector required if aggregationRule is non-nil')];
  return a.clusterRoleSelectors!.flatMap((s, i) => validateLabelSelector(s, p.index(i)));
}

/** ValidateRole / ValidateRoleUpdate. */
export function validateRole(r: Role, old?: Role): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(r.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(r.metadata, true, nameIsPathSegment, path('metadata')), ...validateRules(r.rules, true));
  return errs;
}

/** ValidateClusterRole / ValidateClusterRoleUpdate. */
export function validateClusterRole(r: ClusterRole, old?: ClusterRole): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(r.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(r.metadata, false, nameIsPathSegment, path('metadata')), ...validateRules(r.rules, false));
  errs.push(...validateAggregationRule(r.aggregationRule));
  return errs;
}

function validateRoleRef(ref: RoleRef | undefined, kinds: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const r = ref ?? ({} as RoleRef);
  if (r.apiGroup !== RBAC_GROUP) errs.push(notSupported(path('roleRef', 'apiGroup'), r.apiGroup ?? '', [RBAC_GROUP]));
  if (!kinds.includes(r.kind)) errs.push(notSupported(path('roleRef', 'kind'), r.kind ?? '', kinds));
  if (!r.name) errs.push(required(path('roleRef', 'name')));
  else errs.push(...eachInvalid(path('roleRef', 'name'), r.name, nameIsPathSegment(r.name, false)));
  return errs;
}

/** ValidateRoleBindingSubject. */
export function validateSubject(s: Subject, namespaced: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(p.child('name')));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) errs.push(...eachInvalid(p.child('name'), s.name, nameIsDNSSubdomain(s.name, false)));
      if (s.apiGroup) errs.push(notSupported(p.child('apiGroup'), s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(p.child('namespace')));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(p.child('apiGroup'), s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(p.child('kind'), s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** The roleRef rendered as Go's %v of a struct value: `{rbac.authorization.k8s.io Role name}`. */
class RoleRefValue {
  constructor(private readonly r: RoleRef) {}
  toString(): string { return `{${this.r.apiGroup ?? ''} ${this.r.kind ?? ''} ${this.r.name ?? ''}}`; }
}

function validateBinding(b: RoleBinding | ClusterRoleBinding, namespaced: boolean, old?: RoleBinding | ClusterRoleBinding): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(b.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(b.metadata, namespaced, nameIsPathSegment, path('metadata')));
  errs.push(...validateRoleRef(b.roleRef, namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole']));
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, path('subjects').index(i))));
  if (old) {
    const a = b.roleRef ?? ({} as RoleRef);
    const o = old.roleRef ?? ({} as RoleRef);
    if (a.apiGroup !== o.apiGroup || a.kind !== o.kind || a.name !== o.name) {
      errs.push(invalidField(path('roleRef'), new RoleRefValue(a), 'cannot change roleRef'));
    }
  }
  return errs;
}

/** ValidateRoleBinding / ValidateRoleBindingUpdate. */
export function validateRoleBinding(b: RoleBinding, old?: RoleBinding): FieldError[] {
  return validateBinding(b, true, old);
}

/** ValidateClusterRoleBinding / ValidateClusterRoleBindingUpdate. */
export function validateClusterRoleBinding(b: ClusterRoleBinding, old?: ClusterRoleBinding): FieldError[] {
  return validateBinding(b, false, old);
}
