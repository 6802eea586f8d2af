/**
 * ServiceAccount tokens for projected volumes, as the kubelet's token manager keeps them: one
 * TokenRequest per (ServiceAccount, audience, lifetime, Pod), bound to the Pod; cached and asked for
 * again once 80% of its life has passed (or it is older than 24 h); if that fails while the old
 * token is still valid, the old one is kept. The agent re-writes a Pod's token files when
 * `nextRefresh` comes.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { R } from '../../api/resources.js';
import type { Client } from '../../client/client.js';

const MAX_TTL_MS = 24 * 3600_000;

interface Cached { token: string; expMs: number; ttlMs: number; podUid: string }

/** requiresRefresh: past 80% of the token's lifetime, or older than 24 h. */
export function requiresRefresh(nowMs: number, expMs: number, ttlMs: number): boolean {
  const iat = expMs - ttlMs;
  if (nowMs >= iat + MAX_TTL_MS) return true;
  return nowMs >= expMs - ttlMs * 0.2;
}

/** When a token issued now for `ttlMs` must be refreshed. */
export function refreshAt(expMs: number, ttlMs: number): number {
  return Math.min(expMs - ttlMs * 0.2, expMs - ttlMs + MAX_TTL_MS);
}

export class TokenManager {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly client: Client, private readonly clock: () => number = Date.now) {}

  /** A valid token for `pod`'s ServiceAccount (asked for when missing or due for refresh). */
  async token(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const md = pod.metadata ?? {};
    const sa = pod.spec?.serviceAccountName || 'default';
    const key = `${md.namespace}/${sa}/${audience ?? ''}/${expirationSeconds}/${md.uid}`;
    const now = this.clock();
    const cur = this.cache.get(key);
    if (cur && !requiresRefresh(now, cur.expMs, cur.ttlMs)) return cur.token;
    try {
      const tr = await this.client.create<TokenRequest>(R.serviceaccounts, md.namespace, {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
        spec: {
          ...(audience ? { audiences: [audience] } : {}), expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: md.name, uid: md.uid },
        },
      } as TokenRequest, { subresource: 'token', name: sa });
      const expMs = Date.parse(tr.status!.expirationTimestamp);
      const fresh = { token: tr.status!.token, expMs, ttlMs: (tr.spec.expirationSeconds ?? expirationSeconds) * 1000, podUid: md.uid ?? '' };
      this.cache.set(key, fresh);
      return fresh.token;
    } catch (e) {
      // Keep serving a token that has not expired yet; the next sync asks again.
      if (cur && now < cur.expMs) return cur.token;
      throw e;
    }
  }

  /** The earliest refresh due among `podUid`'s tokens (epoch ms); undefined when it has none. */
  nextRefresh(podUid: string): number | undefined {
    let next: number | undefined;
    for (const c of this.cache.values()) {
      if (c.podUid !== podUid) continue;
      const at = refreshAt(c.expMs, c.ttlMs);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Drops a Pod's tokens (the Pod is gone). */
  forget(podUid: string): void {
    for (const [k, c] of this.cache) if (c.podUid === podUid) this.cache.delete(k);
  }
}
