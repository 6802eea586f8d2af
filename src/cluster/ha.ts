/**
 * Several API servers of one cluster (k3s's `server --server URL --token T`): what a second API
 * server takes from the first and how the API servers share work.
 *
 * - The server-bootstrap (src/cluster/join: a token with usage `join-server`, CA pinned) hands over
 *   the cluster CA with its key, the admin token, the cluster's settings and — when the first
 *   server's store is an etcd other machines can reach (`--embedded-etcd --advertise-address`, or
 *   `--store etcd` on non-loopback endpoints) — the etcd endpoints and client certificate.
 * - Such a server's nodes get their Pod CIDRs from node IPAM (the first server's nodes keep the
 *   fixed N-th blocks they always had), since both servers' nodes must differ.
 * - The controllers run under leader election (Lease `kube-system/kube-controller-manager`), so
 *   exactly one API server's controllers act and another takes over when it dies; every API server
 *   keeps serving the API and its own `kubernetes` endpoint.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import type { RunningControllers } from '../controllers/manager.js';
import { LeaderElector } from '../controllers/leaderelection.js';
import type { SharedEtcd, StoreOptions } from './store.js';

/** Store options for the etcd the first API server shares (its PEMs written under `<stateDir>/etcd-client`). */
export function storeFromShared(stateDir: string, shared: SharedEtcd): StoreOptions {
  const dir = join(stateDir, 'etcd-client');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, pem: string | undefined, mode: number): string | undefined => {
    if (!pem) return undefined;
    writeFileSync(join(dir, name), pem, { mode });
    return join(dir, name);
  };
  return {
    kind: 'etcd', endpoints: shared.endpoints, prefix: shared.prefix,
    caFile: write('ca.crt', shared.ca, 0o644), certFile: write('client.crt', shared.cert, 0o644), keyFile: write('client.key', shared.key, 0o600),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Pod CIDRs from node IPAM for `names`: each Node is created (labels only) when absent, then its
 * `spec.podCIDR` is awaited. A Node that exists and is another machine's is refused.
 */
export async function ipamNodeCIDRs(client: Client, names: readonly string[], labels: Record<string, string>, timeoutMs = 30_000): Promise<string[]> {
  const out: string[] = [];
  for (const name of names) {
    try {
      await client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: {} });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const end = Date.now() + timeoutMs;
    for (;;) {
      let n: Node | undefined;
      try { n = await client.get<Node>(R.nodes, undefined, name); } catch (e) { if (!isNotFound(e)) throw e; }
      if (n?.spec?.podCIDR) { out.push(n.spec.podCIDR); break; }
      if (Date.now() > end) throw new Error(`node ${name} got no Pod CIDR within ${timeoutMs} ms: is a controller manager leading (another API server of the cluster)?`);
      await sleep(50);
    }
  }
  return out;
}

/**
 * Runs the controllers only while this API server holds the controller manager's Lease. Resolves
 * once the first attempt was made (a free Lease is taken at once). `stop` releases the Lease.
 */
export async function electedControllers(o: {
  client: Client; identity: string; leaseDurationMs?: number; log?: (line: string) => void;
  start: () => Promise<RunningControllers>;
}): Promise<RunningControllers & { isLeader(): boolean }> {
  let running: RunningControllers | undefined;
  const elector = new LeaderElector({
    client: o.client, name: 'kube-controller-manager', identity: o.identity, leaseDurationMs: o.leaseDurationMs, log: o.log,
    onStartedLeading: async () => { running = await o.start(); },
    onStoppedLeading: async () => { const r = running; running = undefined; await r?.stop(); },
  });
  await elector.start();
  return {
    get controllers() { return running?.controllers ?? []; },
    idle: async () => { await running?.idle(); },
    stop: () => elector.stop(),
    isLeader: () => elector.isLeader,
  };
}
