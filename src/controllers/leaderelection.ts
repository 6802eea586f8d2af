/**
 * Leader election on a Lease (client-go's leaderelection with a LeaseLock), so that when several
 * API servers share one store only one of them runs the controllers, and another takes over when
 * it dies: the holder renews `kube-system/<name>` every `retryPeriodMs`; the others try as often
 * and take the Lease once it has not been renewed for `leaseDurationMs`. A holder that cannot renew
 * for `renewDeadlineMs` stops leading (its controllers stop) before anyone else may start.
 *
 * The identity is stable for an API server (its state directory), so a server that restarts takes
 * its own Lease back at once instead of waiting for it to expire.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';

/** What a candidate should do with the Lease as it is (pure). */
export type LeaseDecision = 'acquire' | 'renew' | 'wait';

/** client-go's tryAcquireOrRenew, as a decision: take it when free or expired, renew our own, else wait. */
export function decideLease(lease: Lease | undefined, me: string, now: Date, leaseDurationMs: number): LeaseDecision {
  const holder = lease?.spec?.holderIdentity ?? '';
  if (holder === me) return 'renew';
  if (!holder) return 'acquire';
  const renewed = Date.parse(lease?.spec?.renewTime ?? lease?.spec?.acquireTime ?? '');
  const duration = (lease?.spec?.leaseDurationSeconds ?? leaseDurationMs / 1000) * 1000;
  return Number.isNaN(renewed) || renewed + duration <= now.getTime() ? 'acquire' : 'wait';
}

/** Options of {@link LeaderElector}. */
export interface LeaderElectionOptions {
  client: Client;
  /** Lease name in kube-system (kube-controller-manager's own: `kube-controller-manager`). */
  name: string;
  identity: string;
  /** client-go's defaults: 15 s, 10 s, 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading(): Promise<void>;
  onStoppedLeading(): Promise<void>;
  now?: () => Date;
  log?: (line: string) => void;
}

const micro = (d: Date): string => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;
  private round: Promise<void> = Promise.resolve();
  private readonly duration: number;
  private readonly deadline: number;
  private readonly retry: number;
  private readonly now: () => Date;

  constructor(private readonly o: LeaderElectionOptions) {
    this.duration = o.leaseDurationMs ?? 15_000;
    this.deadline = o.renewDeadlineMs ?? Math.min(10_000, (this.duration * 2) / 3);
    this.retry = o.retryPeriodMs ?? Math.min(2_000, this.duration / 5);
    this.now = o.now ?? (() => new Date());
  }

  /** True while this candidate leads. */
  get isLeader(): boolean { return this.leading; }

  /** Tries once now (so a free Lease is taken before this resolves), then every retry period. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => { this.round = this.round.then(() => this.tick()); }, this.retry);
    this.timer.unref?.();
  }

  /** Stops trying; a leader stops its work and gives the Lease up (client-go's ReleaseOnCancel). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.round.catch(() => undefined);
    if (!this.leading) return;
    this.leading = false;
    await this.o.onStoppedLeading();
    try {
      const cur = await this.o.client.get<Lease>(R.leases, 'kube-system', this.o.name);
      if (cur.spec?.holderIdentity === this.o.identity) {
        await this.o.client.update<Lease>(R.leases, 'kube-system', { ...cur, spec: { ...cur.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: micro(this.now()) } });
      }
    } catch { /* the next leader takes it when it expires */ }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.o.log?.(`leader election ${this.o.name}: ${(e as Error).message}`);
    }
    const t = this.now().getTime();
    if (ok) {
      this.lastRenew = t;
      if (!this.leading && !this.stopped) {
        this.leading = true;
        this.o.log?.(`leader election ${this.o.name}: ${this.o.identity} is the leader`);
        await this.o.onStartedLeading();
      }
    } else if (this.leading && t - this.lastRenew > this.deadline) {
      this.leading = false;
      this.o.log?.(`leader election ${this.o.name}: ${this.o.identity} could not renew for ${this.deadline} ms and stops leading`);
      await this.o.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const c = this.o.client;
    const now = this.now();
    let lease: Lease | undefined;
    try { lease = await c.get<Lease>(R.leases, 'kube-system', this.o.name); } catch (e) { if (!isNotFound(e)) throw e; }
    const decision = decideLease(lease, this.o.identity, now, this.duration);
    if (decision === 'wait') return false;
    const spec: Lease['spec'] = {
      holderIdentity: this.o.identity, leaseDurationSeconds: Math.max(1, Math.round(this.duration / 1000)), renewTime: micro(now),
      acquireTime: decision === 'acquire' ? micro(now) : lease?.spec?.acquireTime ?? micro(now),
      leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (decision === 'acquire' && lease ? 1 : 0),
    };
    try {
      if (!lease) await c.create<Lease>(R.leases, 'kube-system', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: 'kube-system' }, spec });
      else await c.update<Lease>(R.leases, 'kube-system', { ...lease, spec });
      return true;
    } catch (e) {
      // Someone else wrote first: they hold it now.
      if (isConflict(e) || isAlreadyExists(e)) return false;
      throw e;
    }
  }
}
