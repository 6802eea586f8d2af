/**
 * ServiceAccount tokens: JWTs signed with the cluster's ServiceAccount key (sakey.ts) through `jose`,
 * with the claims kube-apiserver writes (pkg/serviceaccount/claims.go):
 *
 *   bound (TokenRequest): iss, sub system:serviceaccount:<ns>:<name>, aud, iat, nbf, exp, jti and
 *     "kubernetes.io": { namespace, serviceaccount {name, uid}, pod | secret | node {name, uid} }
 *   legacy (token Secrets): iss "kubernetes/serviceaccount", sub, and the flat
 *     "kubernetes.io/serviceaccount/..." claims naming the namespace, Secret and ServiceAccount.
 *
 * `verify` checks the signature, algorithm, issuer, times (one minute of leeway, as go-jose's
 * DefaultLeeway) and audience; whether the objects a token names still exist is the
 * authenticator's check (authenticator.ts), made on every request. Verified tokens are cached until
 * they expire, so a request pays for the signature once per token, not once per call.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { ServiceAccountKey } from './sakey.js';
import { serviceAccountUsername } from './user.js';

/** The issuer legacy (Secret-based) tokens carry. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** The issuer and audience of this cluster's bound tokens (kubeadm's default --service-account-issuer). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Seconds of clock skew tolerated on exp and nbf (go-jose's DefaultLeeway). */
export const LEEWAY_SECONDS = 60;

/** A name and uid (the `ref` of Kubernetes' private claims). */
export interface Ref { name: string; uid: string }

/** The "kubernetes.io" claim of a bound token. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  warnafter?: number;
}

/** What a verified token says. */
export type VerifiedToken =
  | { kind: 'bound'; namespace: string; serviceAccount: Ref; pod?: Ref; secret?: Ref; node?: Ref; jti?: string; audiences: string[]; exp: number }
  | { kind: 'legacy'; namespace: string; serviceAccount: Ref; secretName: string; exp: number };

/** A token that does not verify; `message` is what a TokenReview reports. */
export class TokenError extends Error {
  readonly code = 'INVALID_TOKEN';
}

/** What `issue` needs: the account, the audiences, the lifetime and what the token is bound to. */
export interface IssueRequest {
  namespace: string;
  serviceAccount: Ref;
  audiences: readonly string[];
  expirationSeconds: number;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
}

interface CacheEntry { token: VerifiedToken; expMs: number }

/** Options of {@link ServiceAccountTokens}. */
export interface ServiceAccountTokensOptions {
  key: ServiceAccountKey;
  /** `iss` of bound tokens. Default DEFAULT_ISSUER. */
  issuer?: string;
  /** The API server's audiences (a bound token must name one). Default [issuer]. */
  audiences?: readonly string[];
  /** Default: () => new Date(). */
  clock?: () => Date;
  /** Verified tokens kept (least recently verified dropped first). Default 10000. */
  cacheSize?: number;
}

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly audiences: readonly string[];
  private readonly key: ServiceAccountKey;
  private readonly clock: () => Date;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheSize: number;

  constructor(opts: ServiceAccountTokensOptions) {
    this.key = opts.key;
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.audiences = opts.audiences ?? [this.issuer];
    this.clock = opts.clock ?? (() => new Date());
    this.cacheSize = opts.cacheSize ?? 10_000;
  }

  /** The public key and its id (the JWKS document publishes them). */
  get publicKey(): ServiceAccountKey['publicKey'] { return this.key.publicKey; }
  get kid(): string { return this.key.kid; }

  /** Signs a bound token; `expirationTimestamp` is what TokenRequest's status reports. */
  async issue(req: IssueRequest): Promise<{ token: string; expirationTimestamp: Date; issuedAt: Date }> {
    const now = this.clock();
    const iat = Math.floor(now.getTime() / 1000);
    const k8s: KubernetesClaim = { namespace: req.namespace, serviceaccount: { name: req.serviceAccount.name, uid: req.serviceAccount.uid } };
    if (req.pod) k8s.pod = req.pod;
    if (req.secret) k8s.secret = req.secret;
    if (req.node) k8s.node = req.node;
    const token = await new SignJWT({ 'kubernetes.io': k8s as unknown as Record<string, unknown> })
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(req.namespace, req.serviceAccount.name))
      .setAudience([...req.audiences])
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + req.expirationSeconds)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    return { token, expirationTimestamp: new Date(now.getTime() + req.expirationSeconds * 1000), issuedAt: now };
  }

  /** Signs a legacy token for a `kubernetes.io/service-account-token` Secret (no expiry, no audience). */
  async issueLegacy(namespace: string, serviceAccount: Ref, secretName: string): Promise<string> {
    return new SignJWT({
      'kubernetes.io/serviceaccount/namespace': namespace,
      'kubernetes.io/serviceaccount/secret.name': secretName,
      'kubernetes.io/serviceaccount/service-account.name': serviceAccount.name,
      'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.uid,
    })
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(serviceAccountUsername(namespace, serviceAccount.name))
      .sign(this.key.privateKey);
  }

  /**
   * Verifies `token` (signature, issuer, times, audience). Resolves undefined when it is not a
   * token of this issuer at all (another authenticator may know it), throws TokenError when it is
   * one but invalid. `audiences`: the audiences the caller accepts (default: the API server's).
   */
  async verify(token: string, audiences: readonly string[] = this.audiences): Promise<VerifiedToken | undefined> {
    const nowMs = this.clock().getTime();
    let hit = this.cache.get(token);
    if (hit && nowMs > hit.expMs) { this.cache.delete(token); hit = undefined; }
    if (!hit) {
      const verified = await this.verifySignature(token, nowMs);
      if (!verified) return undefined;
      hit = verified;
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, hit);
    } else {
      // Most recently verified last: the first key is the one to drop.
      this.cache.delete(token);
      this.cache.set(token, hit);
    }
    const t = hit.token;
    if (t.kind === 'bound' && !t.audiences.some((a) => audiences.includes(a))) {
      throw new TokenError(`token audiences ${goList(t.audiences)} is invalid for the target audiences ${goList(audiences)}`);
    }
    return t;
  }

  private async verifySignature(token: string, nowMs: number): Promise<CacheEntry | undefined> {
    if (token.split('.').length !== 3) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: [this.key.alg], clockTolerance: LEEWAY_SECONDS, currentDate: new Date(nowMs),
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw new TokenError('service account token has expired');
      if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'nbf') throw new TokenError('service account token is not valid yet');
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenError('invalid bearer token, square/go-jose: error in cryptographic primitive');
      if (e instanceof joseErrors.JOSEError) throw new TokenError(`invalid bearer token, ${e.message}`);
      return undefined;
    }
    if (payload.iss === LEGACY_ISSUER) {
      const s = (k: string): string => String(payload[`kubernetes.io/serviceaccount/${k}`] ?? '');
      const ns = s('namespace');
      const name = s('service-account.name');
      if (!ns || !name || !s('secret.name')) throw new TokenError('service account token claims are incomplete');
      return { token: { kind: 'legacy', namespace: ns, serviceAccount: { name, uid: s('service-account.uid') }, secretName: s('secret.name'), exp: Infinity }, expMs: Infinity };
    }
    if (payload.iss !== this.issuer) return undefined;
    const k8s = payload['kubernetes.io'] as KubernetesClaim | undefined;
    if (!k8s?.namespace || !k8s.serviceaccount?.name) throw new TokenError('service account token claims are incomplete');
    if (typeof payload.exp !== 'number') throw new TokenError('service account token has no expiry');
    const aud = typeof payload.aud === 'string' ? [payload.aud] : payload.aud ?? [];
    const exp = payload.exp;
    return {
      token: { kind: 'bound', namespace: k8s.namespace, serviceAccount: k8s.serviceaccount, pod: k8s.pod, secret: k8s.secret, node: k8s.node, jti: payload.jti, audiences: aud, exp },
      expMs: (exp + LEEWAY_SECONDS) * 1000,
    };
  }
}

/** Go's %q of a []string: `["a" "b"]`. */
function goList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}
