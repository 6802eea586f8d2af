/**
 * The `clusterip up` store flags (--store, --etcd-*, --embedded-etcd) turned into StoreOptions, with
 * a UsageError for every inconsistent combination. Kept apart from main.ts so it can be tested.
 */
import { existsSync } from 'node:fs';
import type { StoreOptions } from '../cluster/store.js';
import { UsageError } from './args.js';

/** The store flags as StoreOptions (UsageError for inconsistent combinations). */
export function storeOptions(flags: Record<string, unknown>): StoreOptions {
  const store = String(flags.store ?? 'sqlite');
  if (store !== 'sqlite' && store !== 'etcd') throw new UsageError(`--store must be sqlite or etcd, not ${JSON.stringify(store)}`);
  const interval = Number(flags['etcd-compaction-interval'] ?? 300);
  if (!(interval >= 0)) throw new UsageError('--etcd-compaction-interval must be 0 or more seconds');
  const endpoints = String(flags['etcd-endpoints'] ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  const tls = { caFile: flags['etcd-cafile'] as string | undefined, certFile: flags['etcd-certfile'] as string | undefined, keyFile: flags['etcd-keyfile'] as string | undefined };
  const etcdFlag = endpoints.length > 0 || tls.caFile || tls.certFile || tls.keyFile || flags['etcd-prefix'];
  if (flags['embedded-etcd']) {
    if (endpoints.length > 0) throw new UsageError('--embedded-etcd and --etcd-endpoints exclude each other');
    return { kind: 'embedded-etcd', compactionIntervalMs: interval * 1000 };
  }
  if (store === 'sqlite') {
    if (etcdFlag) throw new UsageError('--etcd-* flags need --store etcd (or --embedded-etcd)');
    return { kind: 'sqlite' };
  }
  if (endpoints.length === 0) throw new UsageError('--store etcd needs --etcd-endpoints https://host:2379[,...] (or use --embedded-etcd)');
  if (!!tls.certFile !== !!tls.keyFile) throw new UsageError('--etcd-certfile and --etcd-keyfile go together');
  for (const [flag, f] of [['etcd-cafile', tls.caFile], ['etcd-certfile', tls.certFile], ['etcd-keyfile', tls.keyFile]] as const) {
    if (f && !existsSync(f)) throw new UsageError(`--${flag}: ${f} does not exist`);
  }
  return { kind: 'etcd', endpoints, ...tls, prefix: String(flags['etcd-prefix'] ?? ''), compactionIntervalMs: interval * 1000 };
}
