/**
 * A real etcd for tests: Debian's `etcd` on free loopback ports with its own temp data dir, removed
 * when the test ends (also on failure). `size: 3` starts a three-member cluster; `tls: true` makes
 * it require client certificates (the PKI is in the temp dir).
 *
 *   const etcd = await startTestEtcd(t);
 *   const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix() });
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEtcdCluster, type LocalEtcdCluster, type LocalEtcdClusterOptions } from '../etcd/process.js';

export interface TestEtcd extends LocalEtcdCluster {
  dir: string;
  /** Stops every member and removes the temp dir. */
  close(): Promise<void>;
}

/** Starts etcd; with `t`, `close()` is registered with `t.after`. */
export async function startTestEtcd(t?: { after(fn: () => Promise<void>): void }, opts: Omit<LocalEtcdClusterOptions, 'dir'> = {}): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'cip-etcd-'));
  let cluster: LocalEtcdCluster;
  try {
    cluster = await startLocalEtcdCluster({ dir, logDir: dir, ...opts });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => closing ??= (async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  })();
  t?.after(close);
  return { ...cluster, dir, close };
}

/** A key prefix no other test uses, so several stores can share one etcd. */
export function uniquePrefix(): string {
  return `/cip-test-${randomBytes(4).toString('hex')}`;
}
