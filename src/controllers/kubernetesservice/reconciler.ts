/**
 * The lease endpoint reconciler's loop. Every API server runs one (it is part of the API server in
 * Kubernetes, not of the leader-elected controller manager): every `renewMs` it renews its own
 * Lease, lists the API server Leases, and writes the `default/kubernetes` Endpoints and EndpointSlice
 * when they differ from the live Leases. On a clean stop it deletes its Lease and writes the
 * endpoints once more without itself (kube-apiserver's RemoveEndpoints at shutdown), so a server
 * that stops is dropped at once and one that dies is dropped when its Lease expires.
 */
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { Client } from '../../client/client.js';
import {
  apiServerLease, endpointsUpToDate, IDENTITY_VALUE, kubernetesEndpoints, kubernetesEndpointSlice, LABEL_IDENTITY,
  LEASE_NAMESPACE, liveEndpoints, sliceUpToDate, type ApiServerEndpoint,
} from './reconcile.js';

/** Options of {@link KubernetesServiceReconciler}. */
export interface ReconcilerOptions {
  client: Client;
  /** This API server's id (its Lease is `apiserver-<id>`). */
  id: string;
  endpoint: ApiServerEndpoint;
  /** Lease duration in seconds (kube-apiserver's master lease TTL: 15). */
  leaseDurationSeconds?: number;
  /** Renew and reconcile interval in ms. Default a third of the lease duration. */
  renewMs?: number;
  hostname?: string;
  now?: () => Date;
  /** Failures of one round (the next round retries). Default: ignored. */
  onError?: (err: unknown) => void;
}

export class KubernetesServiceReconciler {
  private timer?: NodeJS.Timeout;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly duration: number;
  private readonly now: () => Date;

  constructor(private readonly o: ReconcilerOptions) {
    this.duration = o.leaseDurationSeconds ?? 15;
    this.now = o.now ?? (() => new Date());
  }

  /** Runs the first round (the Lease exists and the endpoints list this server when it resolves), then one every renewMs. */
  async start(): Promise<void> {
    await this.runRound();
    this.timer = setInterval(() => { void this.runRound(); }, this.o.renewMs ?? Math.max(200, (this.duration * 1000) / 3));
    this.timer.unref?.();
  }

  /** Stops renewing; with `release` (a clean shutdown) deletes the Lease and drops this server from the endpoints. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.round.catch(() => undefined);
    if (!opts.release) return;
    try {
      await this.o.client.delete(R.leases, LEASE_NAMESPACE, `apiserver-${this.o.id}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.reconcileEndpoints();
  }

  /** One round: renew, then reconcile. Exposed for tests. */
  runRound(): Promise<void> {
    this.round = this.round.then(async () => {
      if (this.stopped) return;
      try {
        await this.renew();
        await this.reconcileEndpoints();
      } catch (e) {
        this.o.onError?.(e);
      }
    });
    return this.round;
  }

  private async renew(): Promise<void> {
    const c = this.o.client;
    const desired = apiServerLease(this.o.id, this.o.endpoint, this.duration, this.now(), this.o.hostname ?? 'localhost');
    const name = desired.metadata!.name!;
    try {
      const cur = await c.get<Lease>(R.leases, LEASE_NAMESPACE, name);
      await c.update<Lease>(R.leases, LEASE_NAMESPACE, {
        ...cur,
        metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, ...desired.metadata!.labels }, annotations: { ...cur.metadata?.annotations, ...desired.metadata!.annotations } },
        spec: { ...desired.spec, acquireTime: cur.spec?.acquireTime ?? desired.spec!.acquireTime },
      });
    } catch (e) {
      if (isConflict(e)) return; // renewed concurrently; the next round renews again
      if (!isNotFound(e)) throw e;
      try { await c.create<Lease>(R.leases, LEASE_NAMESPACE, desired); } catch (err) { if (!isAlreadyExists(err)) throw err; }
    }
  }

  /** Writes Endpoints and EndpointSlice `default/kubernetes` from the live Leases, when they differ. */
  async reconcileEndpoints(): Promise<ApiServerEndpoint[]> {
    const c = this.o.client;
    const leases = await c.list<Lease>(R.leases, LEASE_NAMESPACE, { labelSelector: `${LABEL_IDENTITY}=${IDENTITY_VALUE}` });
    const eps = liveEndpoints(leases.items, this.now());
    await this.write<Endpoints>(R.endpoints, kubernetesEndpoints(eps), endpointsUpToDate);
    await this.write<EndpointSlice>(R.endpointslices, kubernetesEndpointSlice(eps), sliceUpToDate);
    return eps;
  }

  private async write<T extends Endpoints | EndpointSlice>(res: typeof R.endpoints | typeof R.endpointslices, desired: T, same: (stored: T | undefined, d: T) => boolean): Promise<void> {
    const c = this.o.client;
    let stored: T | undefined;
    try { stored = await c.get<T>(res, 'default', 'kubernetes'); } catch (e) { if (!isNotFound(e)) throw e; }
    if (same(stored, desired)) return;
    try {
      if (!stored) { await c.create<T>(res, 'default', desired); return; }
      const next = { ...stored, ...desired, metadata: { ...stored.metadata, labels: { ...stored.metadata?.labels, ...desired.metadata?.labels } } } as T;
      await c.update<T>(res, 'default', next);
    } catch (e) {
      // Another API server wrote meanwhile; its view is as good as ours, and the next round converges.
      if (!isConflict(e) && !isAlreadyExists(e)) throw e;
    }
  }
}
