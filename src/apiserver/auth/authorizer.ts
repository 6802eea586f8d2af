/**
 * The API server's authorizer: kube-apiserver's union of a privileged-group authorizer (members of
 * system:masters may do anything, RBAC is not asked) and RBAC. Nodes are authorized by RBAC too:
 * the bootstrap policy binds system:node and system:node-proxier to the group system:nodes
 * (Kubernetes' Node authorizer, which narrows a kubelet to its own Pods, is not implemented).
 */
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import type { Attributes } from './attributes.js';
import { aggregate, type Decision, type RbacAuthorizer } from './rbac/authorizer.js';
import { SYSTEM_PRIVILEGED_GROUP, type UserInfo } from './user.js';

/** What a SelfSubjectRulesReview reports. */
export interface RulesReview {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

export interface Authorizer {
  authorize(a: Attributes): Decision;
  /** Every rule `user` has in `namespace` (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): RulesReview;
}

/** Allows everything (a server started without RBAC: unit tests of the HTTP layer). */
export const ALWAYS_ALLOW: Authorizer = {
  authorize: () => ({ decision: 'allow', reason: '' }),
  rulesFor: () => ({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false }),
};

function toReview(rules: readonly PolicyRule[]): Pick<RulesReview, 'resourceRules' | 'nonResourceRules'> {
  const resourceRules: RulesReview['resourceRules'] = [];
  const nonResourceRules: RulesReview['nonResourceRules'] = [];
  for (const r of rules) {
    if ((r.resources ?? []).length) {
      resourceRules.push({
        verbs: [...r.verbs], ...(r.apiGroups?.length ? { apiGroups: [...r.apiGroups] } : {}),
        resources: [...r.resources!], ...(r.resourceNames?.length ? { resourceNames: [...r.resourceNames] } : {}),
      });
    }
    if ((r.nonResourceURLs ?? []).length) nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs!] });
  }
  return { resourceRules, nonResourceRules };
}

/** The union: system:masters first, then RBAC. */
export function createAuthorizer(rbac: RbacAuthorizer): Authorizer {
  return {
    authorize(a) {
      if (a.user.groups.includes(SYSTEM_PRIVILEGED_GROUP)) return { decision: 'allow', reason: '' };
      return rbac.authorize(a);
    },
    rulesFor(user, namespace) {
      const { rules, errors } = rbac.rulesFor(user, namespace);
      const review = toReview(rules);
      if (user.groups.includes(SYSTEM_PRIVILEGED_GROUP)) {
        review.resourceRules.unshift({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
        review.nonResourceRules.unshift({ verbs: ['*'], nonResourceURLs: ['*'] });
      }
      return { ...review, incomplete: errors.length > 0, ...(errors.length ? { evaluationError: aggregate(errors) } : {}) };
    },
  };
}
