/**
 * The cluster's bootstrap tokens, kept in the cluster's store so every API server of the cluster
 * (several on one etcd) accepts the same ones. kubeadm keeps them as `kube-system` Secrets
 * `bootstrap-token-<id>`; this API server does not serve Secrets yet, so they are storage keys
 * `/clusterip/bootstraptokens/<id>` beside the registry's (like the ClusterIP ledger's keys), read
 * only by the API server process. Only a SHA-256 of each secret is stored: a copy of the store
 * does not give anyone a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isStorageError, type Storage } from '../../storage/storage.js';
import type { BootstrapToken } from './token.js';

const PREFIX = '/clusterip/bootstraptokens/';

/** What a token may be used for. `join-node`: register a node; `join-server`: start another API server of the cluster. */
export type TokenUsage = 'join-node' | 'join-server';

/** A stored token (without its secret). */
export interface TokenRecord {
  id: string;
  /** hex SHA-256 of the secret. */
  secretSha256: string;
  usages: TokenUsage[];
  description?: string;
  /** RFC 3339; absent = never expires. */
  expires?: string;
  created: string;
}

/** Why a token was not accepted (the join API answers 401 with the message). */
export type TokenCheck = { ok: true; record: TokenRecord } | { ok: false; reason: string };

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

export class BootstrapTokens {
  constructor(private readonly storage: Storage) {}

  /** Stores `token`; `ttlMs` 0 or absent = never expires. Throws when the id exists. */
  async add(token: BootstrapToken, opts: { usages: TokenUsage[]; ttlMs?: number; description?: string; now?: Date }): Promise<TokenRecord> {
    const now = opts.now ?? new Date();
    const rec: TokenRecord = {
      id: token.id, secretSha256: sha(token.secret).toString('hex'), usages: opts.usages, created: now.toISOString(),
      ...(opts.description ? { description: opts.description } : {}),
      ...(opts.ttlMs ? { expires: new Date(now.getTime() + opts.ttlMs).toISOString() } : {}),
    };
    await this.storage.create(PREFIX + token.id, JSON.stringify(rec));
    return rec;
  }

  /** The stored token `id`, if any. */
  async get(id: string): Promise<TokenRecord | undefined> {
    const kv = await this.storage.get(PREFIX + id);
    return kv ? JSON.parse(kv.value) as TokenRecord : undefined;
  }

  /** Every stored token, expired ones included (`clusterip token list` shows them as expired). */
  async list(): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for (const kv of (await this.storage.list(PREFIX)).items) out.push(JSON.parse(kv.value) as TokenRecord);
    return out.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
  }

  /** Deletes token `id`; false when there was none. */
  async delete(id: string): Promise<boolean> {
    try {
      await this.storage.delete(PREFIX + id);
      return true;
    } catch (e) {
      if (isStorageError(e, 'KeyNotFound')) return false;
      throw e;
    }
  }

  /** Checks a presented token for `usage` (constant-time secret comparison). */
  async check(token: BootstrapToken, usage: TokenUsage, now = new Date()): Promise<TokenCheck> {
    const rec = await this.get(token.id);
    // One message for an unknown id and a wrong secret: the answer tells nothing about which ids exist.
    const invalid = { ok: false as const, reason: 'the bootstrap token is not valid: no token with this id and secret exists in the cluster' };
    if (!rec) return invalid;
    if (!timingSafeEqual(Buffer.from(rec.secretSha256, 'hex'), sha(token.secret))) return invalid;
    if (rec.expires && Date.parse(rec.expires) <= now.getTime()) return { ok: false, reason: `the bootstrap token ${token.id} expired at ${rec.expires}` };
    if (!rec.usages.includes(usage)) return { ok: false, reason: `the bootstrap token ${token.id} may not be used to ${usage === 'join-server' ? 'add an API server' : 'join a node'} (usages: ${rec.usages.join(', ')})` };
    return { ok: true, record: rec };
  }
}
