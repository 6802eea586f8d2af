/**
 * Tokens controller (kube-controller-manager's serviceaccount-token controller, for the legacy
 * Secrets a user still makes by hand): a Secret of type `kubernetes.io/service-account-token`
 * annotated `kubernetes.io/service-account.name: NAME` gets a long-lived token for that
 * ServiceAccount (`token`), the cluster CA (`ca.crt`) and its namespace (`namespace`), and the
 * account's uid annotation; when the account is gone (or is a new one of the same name) the Secret
 * is deleted, which also ends the token (the authenticator checks the Secret on every request).
 * Bound tokens (TokenRequest, projected volumes) are what Pods get; these are for tools that want
 * a token that does not expire.
 */
import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import { deepCopy, objectKey, splitKey } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';

export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

/** Signs a legacy token (src/apiserver/auth/tokens.ts `issueLegacy`). */
export type LegacyTokenSigner = (namespace: string, serviceAccount: { name: string; uid: string }, secretName: string) => Promise<string>;

/** What the controller does to one token Secret. */
export type TokenSecretPlan = { action: 'none' } | { action: 'delete' } | { action: 'fill'; missing: ('token' | 'ca.crt' | 'namespace' | 'uid')[] };

/** Pure: what a token Secret needs, given its ServiceAccount (undefined when there is none). */
export function planTokenSecret(secret: Secret, sa: ServiceAccount | undefined, caPem: string): TokenSecretPlan {
  if (secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || secret.metadata?.deletionTimestamp) return { action: 'none' };
  const uid = secret.metadata?.annotations?.[SA_UID_ANNOTATION];
  if (!sa || sa.metadata?.deletionTimestamp || (uid && uid !== sa.metadata?.uid)) return { action: 'delete' };
  const missing: ('token' | 'ca.crt' | 'namespace' | 'uid')[] = [];
  const d = secret.data ?? {};
  if (!d.token) missing.push('token');
  if (d['ca.crt'] !== Buffer.from(caPem).toString('base64')) missing.push('ca.crt');
  if (!d.namespace) missing.push('namespace');
  if (!uid) missing.push('uid');
  return missing.length ? { action: 'fill', missing } : { action: 'none' };
}

export class TokensController extends KeyedController {
  readonly name = 'serviceaccount-token-controller';

  constructor(ctx: ControllerContext, private readonly sign: LegacyTokenSigner, private readonly caPem: string) {
    super(ctx, R.secrets, { workers: 2, baseDelayMs: 20, maxDelayMs: 5000 });
    const mine = (s: Secret): void => { if (s.type === SERVICE_ACCOUNT_TOKEN_TYPE) this.enqueue(objectKey(s)); };
    ctx.informers.informer<Secret>(R.secrets).addHandlers({ onAdd: mine, onUpdate: (_a, s) => mine(s) });
    const secretsOf = (sa: ServiceAccount): void => {
      if (!this.running) return;
      for (const s of ctx.informers.index<Secret>(R.secrets).candidates(sa.metadata?.namespace ?? '', [])) {
        if (s.type === SERVICE_ACCOUNT_TOKEN_TYPE && s.metadata?.annotations?.[SA_NAME_ANNOTATION] === sa.metadata?.name) this.enqueue(objectKey(s));
      }
    };
    ctx.informers.informer<ServiceAccount>(R.serviceaccounts).addHandlers({ onAdd: secretsOf, onDelete: secretsOf });
  }

  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const secret = this.ctx.informers.informer<Secret>(R.secrets).get(key);
    if (!secret) return;
    const saName = secret.metadata?.annotations?.[SA_NAME_ANNOTATION] ?? '';
    const sa = this.ctx.informers.informer<ServiceAccount>(R.serviceaccounts).get(`${namespace}/${saName}`);
    const plan = planTokenSecret(secret, sa, this.caPem);
    const c = this.ctx.client;
    try {
      if (plan.action === 'delete') {
        await c.delete(R.secrets, namespace, secret.metadata!.name!, { preconditions: { uid: secret.metadata?.uid } });
      } else if (plan.action === 'fill') {
        const next = deepCopy(secret);
        const data = { ...next.data };
        if (!data.token) data.token = Buffer.from(await this.sign(namespace, { name: saName, uid: sa!.metadata!.uid! }, secret.metadata!.name!)).toString('base64');
        data['ca.crt'] = Buffer.from(this.caPem).toString('base64');
        data.namespace = Buffer.from(namespace).toString('base64');
        next.data = data;
        next.metadata = { ...next.metadata, annotations: { ...next.metadata?.annotations, [SA_UID_ANNOTATION]: sa!.metadata!.uid! } };
        await c.update(R.secrets, namespace, next);
      }
    } catch (e) {
      if (!isNotFound(e)) throw e; // a Conflict is retried by the queue
    }
  }
}
