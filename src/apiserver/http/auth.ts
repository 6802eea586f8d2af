/**
 * Authentication of HTTPS requests: an x509 client certificate signed by the cluster CA (user = CN,
 * groups = O), or a bearer token from the token table. Requests on the unix socket are trusted
 * (the socket is mode 0600 in the state directory: file permissions are the credential).
 * Anonymous requests are rejected with 401, except the public-info paths kube-apiserver also lets
 * anonymous users read (/version, /healthz, /livez, /readyz).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash, timingSafeEqual } from 'node:crypto';

/** An authenticated identity. */
export interface UserInfo {
  name: string;
  groups: string[];
}

/** Paths anonymous clients may read (kube's system:public-info-viewer). */
export function isPublicPath(pathname: string): boolean {
  return pathname === '/version' || /^\/(healthz|livez|readyz)(\/.*)?$/.test(pathname);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Builds an authenticator over a token table (token → user). */
export function createAuthenticator(tokens: ReadonlyMap<string, UserInfo>): (req: IncomingMessage) => UserInfo | undefined {
  // Compare digests in constant time so a token cannot be guessed byte by byte.
  const table = [...tokens].map(([t, u]) => ({ d: digest(t), u }));
  return (req) => {
    const sock = req.socket as TLSSocket;
    if (!sock.encrypted) return { name: 'system:unix-socket', groups: ['system:masters', 'system:authenticated'] };
    if (sock.authorized) {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) {
        const o = cert.subject.O;
        const groups = Array.isArray(o) ? o : o ? [o] : [];
        return { name: Array.isArray(cn) ? cn[0] : cn, groups: [...groups, 'system:authenticated'] };
      }
    }
    const h = req.headers.authorization;
    if (h && /^bearer /i.test(h)) {
      const d = digest(h.slice(7).trim());
      for (const e of table) if (timingSafeEqual(e.d, d)) return e.u;
    }
    return undefined;
  };
}
