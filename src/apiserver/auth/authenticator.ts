/**
 * Authentication of HTTPS requests, in kube-apiserver's order: an x509 client certificate signed by
 * the cluster CA (user = CN, groups = O), else a bearer token — a static one (the admin token, node
 * tokens) or a ServiceAccount token (tokens.ts) whose ServiceAccount, and the Pod or Secret it is
 * bound to, still exist with the uids it names (checked on every request, from the watch caches).
 * Requests on the unix socket are trusted (the socket is mode 0600 in the state directory: file
 * permissions are the credential). Anonymous requests are rejected with 401 (as kube-apiserver
 * with --anonymous-auth=false), except the public-info paths kube-apiserver lets anonymous users
 * read (/version, /healthz, /livez, /readyz); so is a token that does not verify.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import { TokenError, type ServiceAccountTokens, type VerifiedToken } from './tokens.js';
import { ALL_AUTHENTICATED, EXTRA, SYSTEM_PRIVILEGED_GROUP, serviceAccountGroups, serviceAccountUsername, type UserInfo } from './user.js';

export type { UserInfo } from './user.js';

/** Paths anonymous clients may read (kube's system:public-info-viewer). */
export function isPublicPath(pathname: string): boolean {
  return pathname === '/version' || /^\/(healthz|livez|readyz)(\/.*)?$/.test(pathname);
}

/** Synchronous reads of current objects (the API server's watch caches). */
export interface ObjectGetter {
  get(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined;
}

/** The outcome of authenticating one token. */
export type TokenAuthResult = { user: UserInfo; audiences: readonly string[] } | { error: string };

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** Static bearer tokens (token → user). */
  tokens: ReadonlyMap<string, UserInfo>;
  /** ServiceAccount tokens: the verifier and where the objects they name are looked up. */
  serviceAccounts?: { tokens: ServiceAccountTokens; objects: ObjectGetter };
}

export interface Authenticator {
  /** The user of a request; undefined when it has no (valid) credentials. */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
  /** One bearer token, as a TokenReview asks (`audiences`: what the reviewer accepts). */
  authenticateToken(token: string, audiences?: readonly string[]): Promise<TokenAuthResult>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The user a verified ServiceAccount token stands for, or why it no longer does (validator.go). */
export function serviceAccountUser(t: VerifiedToken, objects: ObjectGetter, presented: string): UserInfo | { error: string } {
  const ns = t.namespace;
  const sa = objects.get(R.serviceaccounts, ns, t.serviceAccount.name) as ServiceAccount | undefined;
  if (!sa) return { error: `serviceaccounts "${t.serviceAccount.name}" not found` };
  if (sa.metadata?.deletionTimestamp) return { error: `service account ${ns}/${t.serviceAccount.name} has been deleted` };
  const extra: Record<string, string[]> = {};
  if (t.kind === 'legacy') {
    const secret = objects.get(R.secrets, ns, t.secretName) as Secret | undefined;
    if (!secret || secret.metadata?.deletionTimestamp) return { error: 'service account token has been invalidated' };
    const stored = secret.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : '';
    if (stored !== presented) return { error: "token does not match server's copy" };
    if (t.serviceAccount.uid && sa.metadata?.uid !== t.serviceAccount.uid) {
      return { error: `service account UID (${sa.metadata?.uid ?? ''}) does not match claim (${t.serviceAccount.uid})` };
    }
  } else {
    if (sa.metadata?.uid !== t.serviceAccount.uid) {
      return { error: `service account UID (${sa.metadata?.uid ?? ''}) does not match claim (${t.serviceAccount.uid})` };
    }
    if (t.secret) {
      const secret = objects.get(R.secrets, ns, t.secret.name) as Secret | undefined;
      if (!secret || secret.metadata?.deletionTimestamp) return { error: 'service account token has been invalidated' };
      if (secret.metadata?.uid !== t.secret.uid) return { error: `secret UID (${secret.metadata?.uid ?? ''}) does not match service account secret ref claim (${t.secret.uid})` };
    }
    if (t.pod) {
      const pod = objects.get(R.pods, ns, t.pod.name) as Pod | undefined;
      if (!pod || pod.metadata?.deletionTimestamp) return { error: 'service account token has been invalidated' };
      if (pod.metadata?.uid !== t.pod.uid) return { error: `pod UID (${pod.metadata?.uid ?? ''}) does not match service account pod ref claim (${t.pod.uid})` };
      extra[EXTRA.podName] = [t.pod.name];
      extra[EXTRA.podUID] = [t.pod.uid];
    }
    if (t.node) {
      extra[EXTRA.nodeName] = [t.node.name];
      if (t.node.uid) extra[EXTRA.nodeUID] = [t.node.uid];
    }
    if (t.jti) extra[EXTRA.credentialID] = [`JTI=${t.jti}`];
  }
  const user: UserInfo = { name: serviceAccountUsername(ns, t.serviceAccount.name), uid: sa.metadata?.uid, groups: serviceAccountGroups(ns) };
  if (Object.keys(extra).length) user.extra = extra;
  return user;
}

/** Requests on the unix socket (see the file comment). Frozen: one object shared by every request. */
const UNIX_SOCKET_USER: UserInfo = Object.freeze({ name: 'system:unix-socket', groups: Object.freeze([SYSTEM_PRIVILEGED_GROUP, ALL_AUTHENTICATED]) as string[] });

/**
 * The user of a connection's verified client certificate, or null (none, not signed by the cluster
 * CA, without a CN, or expired). Read once per TLS connection: the certificate cannot change on it,
 * because the API server refuses renegotiation (`secureConnection` in http/server.ts calls
 * disableRenegotiation(), as Go's TLS server, kube-apiserver's, never renegotiates), and
 * getPeerCertificate() is costly (it builds the whole certificate as an object, fingerprints
 * included: ~15% of a keep-alive create's CPU when it ran per request). Its expiry is still checked
 * on every request, as kube-apiserver verifies the chain per request: a certificate that expires
 * while its connection is kept alive stops authenticating there, as it would on a new connection.
 */
const certificateUsers = new WeakMap<TLSSocket, { user: UserInfo; notAfter: number } | null>();

function certificateUser(sock: TLSSocket): UserInfo | null {
  let known = certificateUsers.get(sock);
  if (known === undefined) {
    known = null;
    if (sock.authorized) {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) {
        const o = cert.subject.O;
        const groups = Array.isArray(o) ? o : o ? [o] : [];
        const user = Object.freeze({ name: Array.isArray(cn) ? cn[0]! : cn, groups: Object.freeze([...groups, ALL_AUTHENTICATED]) as string[] });
        known = { user, notAfter: Date.parse(cert.valid_to) };
      }
    }
    certificateUsers.set(sock, known);
  }
  // Expired once the clock is past notAfter, as Go's x509 verification says; NaN (unparsable) is
  // never past it here, and the handshake already verified the certificate's dates.
  if (known && Date.now() > known.notAfter) return null;
  return known?.user ?? null;
}

/** Builds the authenticator (see the file comment for the order). */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  // Compare digests in constant time so a token cannot be guessed byte by byte.
  const table = [...opts.tokens].map(([t, u]) => ({ d: digest(t), u }));
  const sa = opts.serviceAccounts;

  async function authenticateToken(token: string, audiences?: readonly string[]): Promise<TokenAuthResult> {
    const d = digest(token);
    for (const e of table) if (timingSafeEqual(e.d, d)) return { user: e.u, audiences: audiences ?? [] };
    if (!sa) return { error: 'invalid bearer token' };
    let verified: VerifiedToken | undefined;
    try {
      verified = await sa.tokens.verify(token, audiences);
    } catch (e) {
      return { error: e instanceof TokenError ? e.message : 'invalid bearer token' };
    }
    if (!verified) return { error: 'invalid bearer token' };
    const u = serviceAccountUser(verified, sa.objects, token);
    if ('error' in u) return u;
    const auds = verified.kind === 'bound' ? verified.audiences.filter((a) => (audiences ?? sa.tokens.audiences).includes(a)) : [...(audiences ?? sa.tokens.audiences)];
    return { user: u, audiences: auds };
  }

  return {
    authenticateToken,
    async authenticate(req) {
      const sock = req.socket as TLSSocket;
      if (!sock.encrypted) return UNIX_SOCKET_USER;
      const certUser = certificateUser(sock);
      if (certUser) return certUser;
      const h = req.headers.authorization;
      if (!h || !/^bearer /i.test(h)) return undefined;
      const r = await authenticateToken(h.slice(7).trim());
      return 'user' in r ? r.user : undefined;
    },
  };
}
