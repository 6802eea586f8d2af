/**
 * Registry credentials and challenges, pure:
 * - `parseChallenges`: a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"` as
 *   Docker Hub sends, or `Basic realm="…"` as an htpasswd-protected registry does);
 * - `credentialsFor`: which entries of docker config JSON files (the `.dockerconfigjson` of an
 *   imagePullSecret, `~/.docker/config.json`) apply to an image, matched as the kubelet's
 *   credential keyring matches them: by host (with `*` wildcards per label), port and path prefix,
 *   Docker Hub's aliases taken as one, the most specific key first.
 */
import { repository, type ImageRef } from './reference.js';

/** One auth challenge of a 401 answer. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** A user name and password for a registry. */
export interface Credential {
  username: string;
  password: string;
  /** The docker config key it came from (for messages). */
  source?: string;
}

/** The `auths` part of a docker config JSON (`.dockerconfigjson`). */
export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
}

/** Parses `WWW-Authenticate` (RFC 7235): several challenges, each a scheme and auth-params. */
export function parseChallenges(header: string | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  let i = 0;
  const skip = (): void => { while (i < header.length && /[\s,]/.test(header[i]!)) i++; };
  const token = (): string => { const m = /^[\w!#$%&'*+.^`|~/-]+/.exec(header.slice(i)); i += m ? m[0].length : 0; return m ? m[0] : ''; };
  let cur: Challenge | undefined;
  for (skip(); i < header.length; skip()) {
    const name = token();
    if (!name) break;
    let j = i;
    while (header[j] === ' ') j++;
    if (header[j] !== '=') { cur = { scheme: name.toLowerCase(), params: {} }; out.push(cur); continue; }
    i = j + 1;
    while (header[i] === ' ') i++;
    let value = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') { if (header[i] === '\\') i++; value += header[i] ?? ''; i++; }
      i++;
    } else {
      value = token();
    }
    if (cur) cur.params[name.toLowerCase()] = value;
  }
  return out;
}

const HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** A docker config key → host, port and path (`https://index.docker.io/v1/` → docker.io, '', ''). */
function parseKey(key: string): { host: string; port: string; path: string } | undefined {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  let path = '';
  const slash = k.indexOf('/');
  if (slash >= 0) { path = k.slice(slash + 1).replace(/\/+$/, ''); k = k.slice(0, slash); }
  if (!k) return undefined;
  let host = k.toLowerCase();
  let port = '';
  const m = /^(.*):(\d+)$/.exec(host);
  if (m) { host = m[1]!; port = m[2]!; }
  if (HUB.has(host)) { host = 'docker.io'; if (path === 'v1' || path === 'v2') path = ''; }
  return { host, port, path };
}

/** Host glob match per label (`*.example.com` matches `a.example.com`, not `a.b.example.com`). */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => {
    const re = new RegExp(`^${label.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*')}$`);
    return re.test(h[i]!);
  });
}

function decode(entry: NonNullable<DockerConfig['auths']>[string]): Credential | undefined {
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  return undefined;
}

/**
 * The credentials of `configs` that apply to `ref`, most specific key first (longer path, then
 * host without wildcard). Entries without a user name and password are skipped.
 */
export function credentialsFor(ref: ImageRef, configs: readonly DockerConfig[]): Credential[] {
  const m = /^(.*?)(?::(\d+))?$/.exec(ref.domain.toLowerCase())!;
  const host = HUB.has(m[1]!) ? 'docker.io' : m[1]!;
  const port = m[2] ?? '';
  const found: { cred: Credential; score: number }[] = [];
  for (const cfg of configs) {
    for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
      const k = parseKey(key);
      if (!k || k.port !== port || !hostMatches(k.host, host)) continue;
      if (k.path && ref.path !== k.path && !ref.path.startsWith(`${k.path}/`)) continue;
      const cred = decode(entry);
      if (!cred) continue;
      found.push({ cred: { ...cred, source: key }, score: k.path.length * 10 + (k.host.includes('*') ? 0 : 1) });
    }
  }
  return found.sort((a, b) => b.score - a.score).map((f) => f.cred);
}

/** `repository:library/nginx:pull`, the scope a pull asks a token for. */
export function pullScope(ref: ImageRef): string {
  return `repository:${ref.path}:pull`;
}

/** For messages: the repository a credential was tried on. */
export function describeTarget(ref: ImageRef): string {
  return repository(ref);
}
