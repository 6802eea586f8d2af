/**
 * POST serviceaccounts/NAME/token (TokenRequest): a bound, expiring token for a ServiceAccount, as
 * pkg/registry/core/serviceaccount/storage/token.go issues it — the audiences default to the API
 * server's, the lifetime is 10 minutes to 2^32 seconds (default one hour), and a token bound to a
 * Pod or Secret dies with that object (authenticator.ts checks on every request). `kubectl create
 * token NAME` and the node agent (projected volumes) ask for these.
 */
import type { Node, Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { badRequest, conflict, invalid, notFound, type FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { R } from '../../api/resources.js';
import { checkTypes } from '../semantics/typecheck.js';
import type { ObjectGetter } from './authenticator.js';
import type { Ref, ServiceAccountTokens } from './tokens.js';

/** The TokenRequest kind (a subresource's body, not a catalog entry). */
export const TOKEN_REQUEST = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } as const;

/** Shortest and longest lifetime a TokenRequest may ask for (MinTokenAgeSec, MaxTokenAgeSec). */
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** SetDefaults_TokenRequestSpec. */
export const DEFAULT_EXPIRATION_SECONDS = 3600;

/** Serves token requests for ServiceAccounts (`create(namespace, name, body)`). */
export class TokenRequests {
  constructor(private readonly tokens: ServiceAccountTokens, private readonly objects: ObjectGetter, private readonly clock: () => Date = () => new Date()) {}

  /** The TokenRequest answered (status.token, status.expirationTimestamp). `sa` is the current ServiceAccount. */
  async create(namespace: string, name: string, sa: ServiceAccount, body: unknown, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
    checkTypes(TOKEN_REQUEST, body);
    if (body === null || typeof body !== 'object') throw badRequest('TokenRequest in version "v1" cannot be handled as a TokenRequest: the body must be an object');
    const req = body as TokenRequest;
    const md = req.metadata ?? {};
    if (md.name && md.name !== name) {
      throw invalid('TokenRequest', TOKEN_REQUEST.group, name, [{ type: 'FieldValueInvalid', field: 'metadata.name', value: md.name, detail: 'must match the service account name if specified' }]);
    }
    if (md.namespace && md.namespace !== namespace) {
      throw invalid('TokenRequest', TOKEN_REQUEST.group, name, [{ type: 'FieldValueInvalid', field: 'metadata.namespace', value: md.namespace, detail: 'must match the service account namespace if specified' }]);
    }
    const spec = { ...(req.spec ?? {}) } as TokenRequest['spec'] & { expirationSeconds: number; audiences: string[] };
    if (!spec.audiences?.length) spec.audiences = [...this.tokens.audiences];
    if (spec.expirationSeconds === undefined || spec.expirationSeconds === null) spec.expirationSeconds = DEFAULT_EXPIRATION_SECONDS;
    const errs: FieldError[] = [];
    if (spec.expirationSeconds < MIN_EXPIRATION_SECONDS) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: spec.expirationSeconds, detail: 'may not specify a duration less than 10 minutes' });
    }
    if (spec.expirationSeconds > MAX_EXPIRATION_SECONDS) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: spec.expirationSeconds, detail: 'may not specify a duration larger than 2^32 seconds' });
    }
    if (errs.length) throw invalid('TokenRequest', TOKEN_REQUEST.group, '', errs);

    let pod: Ref | undefined; let secret: Ref | undefined; let node: Ref | undefined;
    const ref = spec.boundObjectRef;
    if (ref) {
      const gv = ref.apiVersion ?? '';
      const group = gv.includes('/') ? gv.split('/')[0]! : '';
      let uid: string | undefined;
      if (group === '' && ref.kind === 'Pod') {
        const p = this.objects.get(R.pods, namespace, ref.name ?? '') as Pod | undefined;
        if (!p) throw notFound(R.pods, ref.name ?? '');
        if (name !== (p.spec?.serviceAccountName ?? '')) throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`);
        uid = p.metadata?.uid;
        pod = { name: p.metadata!.name!, uid: uid ?? '' };
        const nodeName = p.spec?.nodeName;
        if (nodeName) {
          const n = this.objects.get(R.nodes, undefined, nodeName) as Node | undefined;
          node = { name: nodeName, uid: n?.metadata?.uid ?? '' };
        }
      } else if (group === '' && ref.kind === 'Secret') {
        const s = this.objects.get(R.secrets, namespace, ref.name ?? '') as Secret | undefined;
        if (!s) throw notFound(R.secrets, ref.name ?? '');
        uid = s.metadata?.uid;
        secret = { name: s.metadata!.name!, uid: uid ?? '' };
      } else if (group === '' && ref.kind === 'Node') {
        const n = this.objects.get(R.nodes, undefined, ref.name ?? '') as Node | undefined;
        if (!n) throw notFound(R.nodes, ref.name ?? '');
        uid = n.metadata?.uid;
        node = { name: n.metadata!.name!, uid: uid ?? '' };
      } else {
        throw badRequest(`cannot bind token to object of type ${gv ? `${gv}, Kind=${ref.kind ?? ''}` : `/, Kind=${ref.kind ?? ''}`}`);
      }
      if (ref.uid && uid !== ref.uid) {
        throw conflict({ group, plural: ref.kind ?? '' }, ref.name ?? '',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      }
    }
    const now = this.clock();
    const out: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      metadata: { name: sa.metadata?.name, namespace: sa.metadata?.namespace, creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      spec,
      status: { token: '', expirationTimestamp: '' },
    };
    if (opts.dryRun) return out as KubeObject;
    const issued = await this.tokens.issue({
      namespace, serviceAccount: { name: sa.metadata!.name!, uid: sa.metadata?.uid ?? '' }, audiences: spec.audiences,
      expirationSeconds: spec.expirationSeconds, pod, secret, node,
    });
    out.status = { token: issued.token, expirationTimestamp: issued.expirationTimestamp.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    return out as KubeObject;
  }
}
