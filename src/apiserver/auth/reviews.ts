/**
 * The review kinds: answered from the request and the caller's identity, never stored
 * (kube-apiserver's REST for tokenreviews, selfsubjectreviews, subjectaccessreviews,
 * localsubjectaccessreviews, selfsubjectaccessreviews, selfsubjectrulesreviews). `kubectl auth
 * can-i` sends SelfSubjectAccessReviews (`--list`: a SelfSubjectRulesReview), `kubectl auth whoami`
 * a SelfSubjectReview; webhooks and proxies send TokenReviews and SubjectAccessReviews.
 */
import type { TokenReview, SelfSubjectReview } from 'kubernetes-types/authentication/v1.js';
import type {
  LocalSubjectAccessReview, NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
} from 'kubernetes-types/authorization/v1.js';
import { badRequest, invalid, type FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { checkTypes } from '../semantics/typecheck.js';
import type { Attributes } from './attributes.js';
import type { Authenticator } from './authenticator.js';
import type { Authorizer } from './authorizer.js';
import type { UserInfo } from './user.js';

/** Everything a review needs: who asks, how to authenticate a token and how to authorize. */
export interface ReviewContext {
  user: UserInfo;
  /** The namespace of the URL (LocalSubjectAccessReview). */
  namespace?: string;
  authenticator: Pick<Authenticator, 'authenticateToken'>;
  authorizer: Authorizer;
  /** The API server's own audiences (a TokenReview without audiences gets these). */
  apiAudiences: readonly string[];
}

const META = { creationTimestamp: null } as unknown as KubeObject['metadata'];

function userInfoOf(u: UserInfo): { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> } {
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra ? { extra: u.extra } : {}) };
}

function requireObject(info: ResourceInfo, body: unknown): Record<string, unknown> {
  checkTypes(info, body);
  return body as Record<string, unknown>;
}

async function tokenReview(info: ResourceInfo, body: unknown, ctx: ReviewContext): Promise<TokenReview> {
  const tr = requireObject(info, body) as unknown as TokenReview;
  if (!tr.spec?.token) throw badRequest('token is required for TokenReview in authentication');
  const auds = tr.spec.audiences?.length ? tr.spec.audiences : ctx.apiAudiences;
  const r = await ctx.authenticator.authenticateToken(tr.spec.token, auds);
  const status: NonNullable<TokenReview['status']> = 'user' in r
    ? { authenticated: true, user: userInfoOf(r.user), audiences: [...r.audiences] }
    : { error: r.error };
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: META, spec: tr.spec, status };
}

function selfSubjectReview(info: ResourceInfo, body: unknown, ctx: ReviewContext): SelfSubjectReview {
  requireObject(info, body);
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: META, status: { userInfo: userInfoOf(ctx.user) } };
}

/** ValidateSubjectAccessReviewSpec / ValidateSelfSubjectAccessReviewSpec. */
function validateAttributes(kind: string, spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes }, extra: FieldError[]): void {
  const errs: FieldError[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'cannot be specified in combination with resourceAttributes' });
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' });
  }
  errs.push(...extra);
  if (errs.length) throw invalid(kind, 'authorization.k8s.io', '', errs);
}

/** authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom. */
function attributesFrom(user: UserInfo, spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes }): Attributes {
  const ra = spec.resourceAttributes;
  if (ra) {
    return {
      user, verb: ra.verb ?? '', resourceRequest: true, path: '', apiGroup: ra.group ?? '', apiVersion: ra.version ?? '',
      resource: ra.resource ?? '', subresource: ra.subresource ?? '', namespace: ra.namespace ?? '', name: ra.name ?? '',
    };
  }
  const na = spec.nonResourceAttributes ?? {};
  return { user, verb: na.verb ?? '', resourceRequest: false, path: na.path ?? '', apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

function accessStatus(ctx: ReviewContext, a: Attributes): { allowed: boolean; denied?: boolean; reason?: string } {
  const d = ctx.authorizer.authorize(a);
  return { allowed: d.decision === 'allow', ...(d.decision === 'deny' ? { denied: true } : {}), ...(d.reason ? { reason: d.reason } : {}) };
}

function subjectAccessReview(info: ResourceInfo, body: unknown, ctx: ReviewContext, local: boolean): SubjectAccessReview | LocalSubjectAccessReview {
  const sar = requireObject(info, body) as unknown as SubjectAccessReview;
  const spec = sar.spec ?? ({} as SubjectAccessReview['spec']);
  const extra: FieldError[] = [];
  if (!spec.user && !(spec.groups ?? []).length) extra.push({ type: 'FieldValueInvalid', field: 'spec.user', value: spec.user ?? '', detail: 'at least one of user or group must be specified' });
  if (local) {
    if (!ctx.namespace) throw badRequest('namespace is required on this type: ');
    const ns = sar.metadata?.namespace ?? ctx.namespace;
    if (ns !== ctx.namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ctx.namespace}`);
    if (spec.resourceAttributes && spec.resourceAttributes.namespace !== ns) {
      extra.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', value: spec.resourceAttributes.namespace ?? '', detail: 'must match metadata.namespace' });
    }
    if (spec.nonResourceAttributes) extra.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'disallowed on this kind of request' });
  }
  validateAttributes(local ? 'LocalSubjectAccessReview' : 'SubjectAccessReview', spec, extra);
  const subject: UserInfo = { name: spec.user ?? '', ...(spec.uid ? { uid: spec.uid } : {}), groups: [...(spec.groups ?? [])], ...(spec.extra ? { extra: spec.extra as Record<string, string[]> } : {}) };
  return {
    apiVersion: 'authorization.k8s.io/v1', kind: local ? 'LocalSubjectAccessReview' : 'SubjectAccessReview',
    metadata: local ? { ...META, namespace: ctx.namespace } : META, spec, status: accessStatus(ctx, attributesFrom(subject, spec)),
  };
}

function selfSubjectAccessReview(info: ResourceInfo, body: unknown, ctx: ReviewContext): SelfSubjectAccessReview {
  const r = requireObject(info, body) as unknown as SelfSubjectAccessReview;
  const spec = r.spec ?? {};
  validateAttributes('SelfSubjectAccessReview', spec, []);
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: META, spec, status: accessStatus(ctx, attributesFrom(ctx.user, spec)) };
}

function selfSubjectRulesReview(info: ResourceInfo, body: unknown, ctx: ReviewContext): SelfSubjectRulesReview {
  const r = requireObject(info, body) as unknown as SelfSubjectRulesReview;
  const ns = r.spec?.namespace ?? '';
  if (!ns) throw badRequest('no namespace on request');
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: META, spec: r.spec, status: ctx.authorizer.rulesFor(ctx.user, ns) };
}

/**
 * Answers a create of a review kind (`info.stored` is false). Throws ApiError 400 / 422 with
 * Kubernetes' wording for a malformed request.
 */
export async function answerReview(info: ResourceInfo, body: unknown, ctx: ReviewContext): Promise<KubeObject> {
  switch (`${info.group}/${info.plural}`) {
    case 'authentication.k8s.io/tokenreviews': return await tokenReview(info, body, ctx) as KubeObject;
    case 'authentication.k8s.io/selfsubjectreviews': return selfSubjectReview(info, body, ctx) as KubeObject;
    case 'authorization.k8s.io/subjectaccessreviews': return subjectAccessReview(info, body, ctx, false) as KubeObject;
    case 'authorization.k8s.io/localsubjectaccessreviews': return subjectAccessReview(info, body, ctx, true) as KubeObject;
    case 'authorization.k8s.io/selfsubjectaccessreviews': return selfSubjectAccessReview(info, body, ctx) as KubeObject;
    case 'authorization.k8s.io/selfsubjectrulesreviews': return selfSubjectRulesReview(info, body, ctx) as KubeObject;
    default: throw badRequest(`${info.plural} cannot be created`);
  }
}

