/**
 * The web view's logins: one-time login tokens (minted by `clusterip ui` for the kubeconfig user it
 * authenticated as) and the sessions they open (an id in an HttpOnly, Secure, SameSite=Strict
 * cookie). A session is exactly the user that minted its token — same name, same groups — so it
 * can never grant more than that user has. Both live only in the daemon's memory: a restart logs
 * everyone out (run `clusterip ui` again).
 *
 * Secrets are 32 random bytes; the tables are keyed by their SHA-256, so a lookup compares digests
 * (no secret is kept as given, and a timing difference in a Map lookup leaks nothing usable).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { UserInfo } from '../apiserver/auth/user.js';

export const SESSION_COOKIE = 'clusterip_ui';

export interface SessionOptions {
  /** How long a login token may wait to be used (ms). Default 5 minutes. */
  tokenTtlMs?: number;
  /** How long a session lasts from its login (ms). Default 8 hours. */
  sessionTtlMs?: number;
  /** Most tokens and sessions kept at once (the oldest go first). Default 1000 each. */
  max?: number;
  /** Injected clock (tests). */
  now?: () => number;
}

interface Entry { user: UserInfo; expires: number }

const digest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
/** 32 random bytes, URL- and cookie-safe. */
const secret = (): string => randomBytes(32).toString('base64url');
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  private readonly tokens = new Map<string, Entry>();
  private readonly sessions = new Map<string, Entry>();
  readonly tokenTtlMs: number;
  readonly sessionTtlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: SessionOptions = {}) {
    this.tokenTtlMs = opts.tokenTtlMs ?? 5 * 60_000;
    this.sessionTtlMs = opts.sessionTtlMs ?? 8 * 3600_000;
    this.max = opts.max ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** A one-time login token for `user`, valid for `tokenTtlMs`. */
  mintToken(user: UserInfo): { token: string; expiresAt: number } {
    const token = secret();
    const expires = this.now() + this.tokenTtlMs;
    this.put(this.tokens, digest(token), { user: { name: user.name, groups: [...user.groups] }, expires });
    return { token, expiresAt: expires };
  }

  /** Uses up a login token: a new session for its user, or undefined (unknown, used or expired). */
  redeem(token: string): { session: string; user: UserInfo; expiresAt: number } | undefined {
    if (!SECRET_SHAPE.test(token)) return undefined;
    const key = digest(token);
    const e = this.tokens.get(key);
    this.tokens.delete(key);
    if (!e || e.expires <= this.now()) return undefined;
    const session = secret();
    const expires = this.now() + this.sessionTtlMs;
    this.put(this.sessions, digest(session), { user: e.user, expires });
    return { session, user: e.user, expiresAt: expires };
  }

  /** The user of a live session. */
  userOf(session: string | undefined): UserInfo | undefined {
    if (!session || !SECRET_SHAPE.test(session)) return undefined;
    const key = digest(session);
    const e = this.sessions.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) { this.sessions.delete(key); return undefined; }
    return e.user;
  }

  /** Ends a session (logout). */
  end(session: string | undefined): void {
    if (session) this.sessions.delete(digest(session));
  }

  get counts(): { tokens: number; sessions: number } {
    return { tokens: this.tokens.size, sessions: this.sessions.size };
  }

  private put(map: Map<string, Entry>, key: string, e: Entry): void {
    const t = this.now();
    for (const [k, v] of map) if (v.expires <= t) map.delete(k);
    while (map.size >= this.max) map.delete(map.keys().next().value!);
    map.set(key, e);
  }
}

/** The session id from a Cookie header. */
export function sessionFromCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session: HttpOnly (no script reads it), Secure, SameSite=Strict (no cross-site request carries it), only under /ui/. */
export function sessionCookie(session: string, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${session}; Path=/ui/; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

/** Set-Cookie that removes the session cookie. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/ui/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
}
