/**
 * The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): a request is allowed when a rule of a role
 * bound to its user — or to one of its groups, or to its ServiceAccount — allows it. ClusterRoleBindings
 * apply everywhere; RoleBindings only in their namespace. A binding whose role does not exist grants
 * nothing and is no error for the request; the 403 then names the missing role, as Kubernetes'
 * reason does (`RBAC: role.rbac.authorization.k8s.io "x" not found`).
 *
 * Cheap with many bindings: the bindings are indexed by subject (user name, group, ServiceAccount
 * username; per namespace for RoleBindings), kept current from the watch caches' events, so a request
 * looks at the bindings of its own subjects only — never at all of them — and reads each role with
 * one map lookup. Nothing is copied: the index holds the caches' frozen objects.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import type { Attributes } from '../attributes.js';
import { serviceAccountUsername, type UserInfo } from '../user.js';
import { ruleAllows } from './rules.js';

/** The parts of a watch cache the authorizer reads (src/apiserver/registry/watchcache.ts has them). */
export interface CacheView {
  readonly objects: ReadonlyMap<string, { readonly obj: KubeObject }>;
  get(namespace: string | undefined, name: string): { readonly obj: KubeObject } | undefined;
  subscribe(fn: (ev: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; key: string; cur: { readonly obj: KubeObject }; prev?: { readonly obj: KubeObject } }) => void): () => void;
  onReset(fn: (rv: number) => void): () => void;
}

/** The four RBAC caches. */
export interface RbacSources {
  roles: CacheView;
  roleBindings: CacheView;
  clusterRoles: CacheView;
  clusterRoleBindings: CacheView;
}

/** An authorizer's answer (authorizer.Decision + reason). */
export interface Decision {
  decision: 'allow' | 'deny' | 'noOpinion';
  reason: string;
}

type Binding = RoleBinding | ClusterRoleBinding;

/** Index key of a binding's subject; a ServiceAccount is its username, as `appliesToUser` compares it. */
function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  switch (s.kind) {
    case 'User': return `u:${s.name}`;
    case 'Group': return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns ? `u:${serviceAccountUsername(ns, s.name)}` : undefined;
    }
    default: return undefined;
  }
}

/** The index keys a user's requests look up: its name and each of its groups. */
function userKeys(user: UserInfo): string[] {
  const keys = [`u:${user.name}`];
  for (const g of user.groups) keys.push(`g:${g}`);
  return keys;
}

/** Bindings by subject key (for RoleBindings the key is prefixed with the namespace). */
class BindingIndex {
  private readonly bySubject = new Map<string, Map<string, Binding>>();
  private readonly keysOf = new Map<string, string[]>();

  constructor(private readonly cache: CacheView, private readonly namespaced: boolean) {
    this.rebuild();
    cache.subscribe((ev) => {
      this.remove(ev.key);
      if (ev.type !== 'DELETED') this.add(ev.key, ev.cur.obj as Binding);
    });
    cache.onReset(() => this.rebuild());
  }

  private rebuild(): void {
    this.bySubject.clear();
    this.keysOf.clear();
    for (const [k, c] of this.cache.objects) this.add(k, c.obj as Binding);
  }

  private add(cacheKey: string, b: Binding): void {
    const ns = this.namespaced ? b.metadata?.namespace ?? '' : '';
    const keys: string[] = [];
    for (const s of b.subjects ?? []) {
      const sk = subjectKey(s, ns);
      if (!sk) continue;
      const k = this.namespaced ? `${ns}\u0000${sk}` : sk;
      let m = this.bySubject.get(k);
      if (!m) this.bySubject.set(k, m = new Map());
      m.set(cacheKey, b);
      keys.push(k);
    }
    this.keysOf.set(cacheKey, keys);
  }

  private remove(cacheKey: string): void {
    for (const k of this.keysOf.get(cacheKey) ?? []) {
      const m = this.bySubject.get(k);
      m?.delete(cacheKey);
      if (m?.size === 0) this.bySubject.delete(k);
    }
    this.keysOf.delete(cacheKey);
  }

  /** Calls `fn` once per binding with a subject among `keys` (in `namespace` for RoleBindings), with that subject; stops when fn returns false. */
  visit(keys: readonly string[], namespace: string, user: UserInfo, fn: (b: Binding, subject: Subject) => boolean): boolean {
    const seen = new Set<Binding>();
    for (const key of keys) {
      const m = this.bySubject.get(this.namespaced ? `${namespace}\u0000${key}` : key);
      if (!m) continue;
      for (const b of m.values()) {
        if (seen.has(b)) continue;
        seen.add(b);
        const subject = (b.subjects ?? []).find((s) => appliesTo(s, user, this.namespaced ? namespace : ''));
        if (subject && !fn(b, subject)) return false;
      }
    }
    return true;
  }
}

/** appliesToUser: does this subject stand for the user? */
function appliesTo(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User': return s.name === user.name;
    case 'Group': return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return !!ns && serviceAccountUsername(ns, s.name) === user.name;
    }
    default: return false;
  }
}

/** describeSubject: `Group "system:masters"`, `ServiceAccount "default/ns"`. */
function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** The binding a rule came from, as RBAC's allow reasons describe it. */
function describeBinding(b: Binding, s: Subject): string {
  const ns = b.metadata?.namespace;
  if (ns) return `RoleBinding ${JSON.stringify(`${b.metadata?.name ?? ''}/${ns}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, ns)}`;
  return `ClusterRoleBinding ${JSON.stringify(b.metadata?.name ?? '')} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, '')}`;
}

/** utilerrors.NewAggregate(errs).Error(): one message alone, several bracketed (duplicates once). */
export function aggregate(msgs: readonly string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
}

export class RbacAuthorizer {
  private readonly clusterBindings: BindingIndex;
  private readonly roleBindings: BindingIndex;

  constructor(private readonly src: RbacSources) {
    this.clusterBindings = new BindingIndex(src.clusterRoleBindings, false);
    this.roleBindings = new BindingIndex(src.roleBindings, true);
  }

  /** GetRoleReferenceRules: the rules a binding's roleRef names, or why there are none. */
  private rulesOf(b: Binding): readonly PolicyRule[] | string {
    const ref = b.roleRef;
    if (ref.kind === 'ClusterRole') {
      const r = this.src.clusterRoles.get(undefined, ref.name)?.obj as ClusterRole | undefined;
      return r ? r.rules ?? [] : `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
    }
    if (ref.kind === 'Role') {
      const r = this.src.roles.get(b.metadata?.namespace, ref.name)?.obj as Role | undefined;
      return r ? r.rules ?? [] : `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
    }
    return `unsupported role reference kind: ${JSON.stringify(ref.kind)}`;
  }

  /**
   * VisitRulesFor: every rule that applies to `user` in `namespace` ('' = cluster scope: only
   * ClusterRoleBindings), with its source; errors for bindings whose role is missing. Stops when
   * `fn` returns false.
   */
  visitRulesFor(user: UserInfo, namespace: string, fn: (source: () => string, rule: PolicyRule | undefined, err: string | undefined) => boolean): void {
    const keys = userKeys(user);
    const each = (b: Binding, s: Subject): boolean => {
      const rules = this.rulesOf(b);
      if (typeof rules === 'string') return fn(() => describeBinding(b, s), undefined, rules);
      for (const rule of rules) if (!fn(() => describeBinding(b, s), rule, undefined)) return false;
      return true;
    };
    if (!this.clusterBindings.visit(keys, '', user, each)) return;
    if (namespace) this.roleBindings.visit(keys, namespace, user, each);
  }

  /** Authorize: allow with the binding that allowed it, or no opinion with the errors met on the way. */
  authorize(a: Attributes): Decision {
    let allowedBy: (() => string) | undefined;
    const errors: string[] = [];
    this.visitRulesFor(a.user, a.namespace, (source, rule, err) => {
      if (err) { errors.push(err); return true; }
      if (rule && ruleAllows(a, rule)) { allowedBy = source; return false; }
      return true;
    });
    if (allowedBy) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy()}` };
    return { decision: 'noOpinion', reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
  }

  /** RulesFor: every rule of `user` in `namespace`, and the errors (missing roles) met. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (_s, rule, err) => {
      if (err) errors.push(err); else if (rule) rules.push(rule);
      return true;
    });
    return { rules, errors };
  }
}
