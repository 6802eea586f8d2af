/**
 * NodePort and healthCheckNodePort allocation for Service writes, kept atomic with the write by the
 * registry (Kubernetes' service REST: initNodePorts / updateNodePorts / allocHealthCheckNodePort and
 * PortAllocationOperation): ports are taken (and claimed in storage, claims.ts) before the write is
 * stored and given back when it fails, is a dry run or a no-op; ports an update drops are released
 * only once the update is stored; a delete frees them. `repair()` reconciles at start.
 *
 * Which Services hold NodePorts: type NodePort, and LoadBalancer unless
 * `allocateLoadBalancerNodePorts: false` (then only the ports the user asks for explicitly). A
 * healthCheckNodePort belongs to type LoadBalancer with `externalTrafficPolicy: Local`. Ports of one
 * Service with the same `port` number (TCP and UDP of one port) share a NodePort, as in Kubernetes.
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { internalError, invalid } from '../../api/errors.js';
import { objectKey } from '../../api/object.js';
import { NodePortAllocator, PortAllocatorError } from './allocator.js';
import type { NodePortLedger } from './claims.js';

/** Tries per dynamic allocation when other API servers keep winning the race for the picked port. */
const CLAIM_ATTEMPTS = 32;

function typeOf(svc: Service): string {
  return svc.spec?.type || 'ClusterIP';
}

/** True when the Service may hold NodePorts at all (type NodePort or LoadBalancer). */
export function mayHaveNodePorts(svc: Service): boolean {
  const t = typeOf(svc);
  return t === 'NodePort' || t === 'LoadBalancer';
}

/** True when every port gets a NodePort allocated (Kubernetes' shouldAllocateNodePorts). */
export function allocatesNodePorts(svc: Service): boolean {
  const t = typeOf(svc);
  return t === 'NodePort' || (t === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false);
}

/** True when the Service needs a healthCheckNodePort (LoadBalancer + externalTrafficPolicy Local). */
export function needsHealthCheckNodePort(svc: Service): boolean {
  return typeOf(svc) === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
}

/** The NodePorts a Service holds (each once). */
export function nodePortsOf(svc: Service): number[] {
  if (!mayHaveNodePorts(svc)) return [];
  return [...new Set((svc.spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p > 0))];
}

function healthPortOf(svc: Service): number {
  return needsHealthCheckNodePort(svc) ? svc.spec?.healthCheckNodePort ?? 0 : 0;
}

/**
 * One allocation transaction (Kubernetes' PortAllocationOperation): what it allocated is undone by
 * `undo`, what it releases is released only by `commit`.
 */
class Operation {
  private readonly allocated: number[] = [];
  private readonly releases: number[] = [];

  constructor(private readonly ports: ServiceNodePorts, private readonly owner: string, private readonly claim: boolean) {}

  /** Takes `port`; throws PortAllocatorError. */
  async allocate(port: number): Promise<void> {
    this.ports.allocator.allocate(port, this.owner);
    this.allocated.push(port);
    const ledger = this.claim ? this.ports.ledger : undefined;
    if (ledger && await this.ports.claimOrUndo(ledger, port, this.owner) === 'taken') {
      this.allocated.pop();
      throw new PortAllocatorError('AlreadyAllocated', 'provided port is already allocated');
    }
  }

  /** Takes a free port; throws PortAllocatorError (Full). */
  async allocateNext(): Promise<number> {
    const ledger = this.claim ? this.ports.ledger : undefined;
    for (let attempt = 0; ; attempt++) {
      const port = this.ports.allocator.allocateNext(this.owner);
      this.allocated.push(port);
      if (!ledger || await this.ports.claimOrUndo(ledger, port, this.owner) === 'claimed') return port;
      this.allocated.pop();
      if (attempt >= CLAIM_ATTEMPTS) throw new PortAllocatorError('Full', 'too many concurrent allocations, try again');
    }
  }

  releaseLater(port: number): void {
    this.releases.push(port);
  }

  async undo(): Promise<void> {
    for (const p of this.allocated.splice(0)) await this.ports.release(p, this.owner, this.claim);
  }

  async commit(): Promise<void> {
    for (const p of this.releases.splice(0)) await this.ports.release(p, this.owner, this.claim);
  }
}

function nodePortError(svc: Service, i: number, port: number, e: unknown): never {
  if (!(e instanceof PortAllocatorError)) throw e;
  throw invalid('Service', '', svc.metadata?.name ?? '', [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: port, detail: e.message }]);
}

/** Kubernetes answers a full range with 500 (alloc.go: "It's not a field-level validation failure"). */
function fullError(e: unknown, what = 'a nodePort'): never {
  if (!(e instanceof PortAllocatorError)) throw e;
  throw internalError(`failed to allocate ${what}: ${e.message}`);
}

export class ServiceNodePorts {
  constructor(readonly allocator: NodePortAllocator, readonly ledger?: NodePortLedger) {}

  /**
   * Assigns the Service's NodePorts and healthCheckNodePort (mutating `svc`, a private copy).
   * Returns the undo (call it when the write fails). Throws 422 (a taken or out-of-range port, with
   * Kubernetes' message) or 500 (the range is full).
   */
  async allocateForCreate(svc: Service, opts: { dryRun?: boolean } = {}): Promise<() => Promise<void>> {
    const op = new Operation(this, objectKey(svc), !opts.dryRun);
    try {
      await this.initNodePorts(svc, op);
      await this.initHealthCheckNodePort(svc, op);
    } catch (e) {
      await op.undo();
      throw e;
    }
    return () => op.undo();
  }

  private async initNodePorts(svc: Service, op: Operation): Promise<void> {
    if (!mayHaveNodePorts(svc)) return;
    const assign = allocatesNodePorts(svc);
    const ports = svc.spec?.ports ?? [];
    // port number → NodePort: TCP and UDP of one port share a NodePort.
    const byPort = new Map<number, number>();
    for (const [i, sp] of ports.entries()) {
      const shared = byPort.get(sp.port);
      if (shared === undefined) {
        // Any port with this number that asks for a NodePort (this one or a later one) decides.
        const requested = ports.find((p) => p.port === sp.port && (p.nodePort ?? 0) > 0)?.nodePort ?? 0;
        if (requested > 0) {
          await op.allocate(requested).catch((e: unknown) => nodePortError(svc, i, requested, e));
          sp.nodePort = requested;
          byPort.set(sp.port, requested);
        } else if (assign) {
          const np = await op.allocateNext().catch((e: unknown) => fullError(e));
          sp.nodePort = np;
          byPort.set(sp.port, np);
        }
      } else if ((sp.nodePort ?? 0) !== shared) {
        if (!sp.nodePort) sp.nodePort = shared;
        else {
          const np = sp.nodePort;
          await op.allocate(np).catch((e: unknown) => nodePortError(svc, i, np, e));
        }
      }
    }
  }

  private async initHealthCheckNodePort(svc: Service, op: Operation): Promise<void> {
    if (!needsHealthCheckNodePort(svc)) return;
    const spec = svc.spec!;
    const want = spec.healthCheckNodePort ?? 0;
    if (want > 0) {
      await op.allocate(want).catch((e: unknown) => {
        if (!(e instanceof PortAllocatorError)) throw e;
        throw invalid('Service', '', svc.metadata?.name ?? '', [{ type: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', value: want, detail: e.message }]);
      });
    } else {
      spec.healthCheckNodePort = await op.allocateNext().catch((e: unknown) => fullError(e, 'a HealthCheck NodePort'));
    }
  }

  /**
   * Keeps allocation consistent across an update (mutates `next`): NodePorts the client omitted are
   * patched in from the old object (Kubernetes' patchAllocatedValues), new ones are allocated, ports
   * no longer held are released on commit. Returns { undo, commit }.
   */
  async prepareUpdate(old: Service, next: Service, opts: { dryRun?: boolean } = {}): Promise<{ undo(): Promise<void>; commit(): Promise<void> }> {
    patchAllocatedValues(old, next);
    const op = new Operation(this, objectKey(next), !opts.dryRun);
    try {
      await this.updateNodePorts(old, next, op);
      await this.updateHealthCheckNodePort(old, next, op);
    } catch (e) {
      await op.undo();
      throw e;
    }
    return { undo: () => op.undo(), commit: () => op.commit() };
  }

  private async updateNodePorts(old: Service, next: Service, op: Operation): Promise<void> {
    const oldPorts = new Set(nodePortsOf(old));
    const newPorts = new Set<number>();
    if (mayHaveNodePorts(next)) {
      const assign = allocatesNodePorts(next);
      const ports = next.spec?.ports ?? [];
      const byPort = new Map<number, number>();
      for (const [i, sp] of ports.entries()) {
        const np = sp.nodePort ?? 0;
        if (np > 0) {
          if (!oldPorts.has(np) && !newPorts.has(np)) await op.allocate(np).catch((e: unknown) => nodePortError(next, i, np, e));
          newPorts.add(np);
          if (!byPort.has(sp.port)) byPort.set(sp.port, np);
        } else if (assign) {
          // A port of the same number (its other protocol) already has one: share it.
          const shared = byPort.get(sp.port) ?? ports.find((p) => p.port === sp.port && (p.nodePort ?? 0) > 0)?.nodePort;
          const got = shared ?? await op.allocateNext().catch((e: unknown) => fullError(e));
          if (shared !== undefined && !oldPorts.has(shared) && !newPorts.has(shared)) {
            await op.allocate(shared).catch((e: unknown) => nodePortError(next, i, shared, e));
          }
          sp.nodePort = got;
          newPorts.add(got);
          byPort.set(sp.port, got);
        }
      }
    }
    for (const p of oldPorts) if (!newPorts.has(p) && p !== healthPortOf(next)) op.releaseLater(p);
  }

  private async updateHealthCheckNodePort(old: Service, next: Service, op: Operation): Promise<void> {
    const before = healthPortOf(old);
    const nodePorts = new Set(nodePortsOf(next));
    if (!needsHealthCheckNodePort(next)) {
      if (before > 0 && !nodePorts.has(before)) op.releaseLater(before);
      return;
    }
    const spec = next.spec!;
    const want = spec.healthCheckNodePort ?? 0;
    if (want > 0 && want === before) return;
    if (want > 0) {
      await op.allocate(want).catch((e: unknown) => {
        if (!(e instanceof PortAllocatorError)) throw e;
        throw invalid('Service', '', next.metadata?.name ?? '', [{ type: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', value: want, detail: e.message }]);
      });
    } else {
      spec.healthCheckNodePort = await op.allocateNext().catch((e: unknown) => fullError(e, 'a HealthCheck NodePort'));
    }
    if (before > 0 && !nodePorts.has(before)) op.releaseLater(before);
  }

  /** Frees everything the Service held (after its deletion). */
  async releaseFor(svc: Service): Promise<void> {
    const owner = objectKey(svc);
    for (const p of nodePortsOf(svc)) await this.release(p, owner, true);
    const h = healthPortOf(svc);
    if (h > 0) await this.release(h, owner, true);
  }

  /** @internal Frees one port held by `owner` (and its claim). */
  async release(port: number, owner: string, claimed: boolean): Promise<void> {
    if (claimed && this.ledger) await this.ledger.release(port, owner);
    this.allocator.release(port, owner);
  }

  /** @internal Claims `port` (already marked locally for `owner`); undoes the local mark when lost or unknown. */
  async claimOrUndo(ledger: NodePortLedger, port: number, owner: string): Promise<'claimed' | 'taken'> {
    try {
      const got = await ledger.claim(port, owner);
      if (got === 'taken') this.allocator.release(port, owner);
      return got;
    } catch (e) {
      if (ledger.claimOf(port)?.owner !== owner) this.allocator.release(port, owner);
      throw e;
    }
  }

  /**
   * Reconciles the allocation with the stored Services (at start), as Kubernetes' portallocator
   * repair controller: every held port is taken for its Service (claimed when unclaimed); a port two
   * Services hold, or one outside the range, is reported. Claims whose Service is gone are released
   * once older than `orphanGraceMs` (younger ones may be a create in flight on another API server).
   */
  async repair(services: Service[], opts: { orphanGraceMs?: number; now?: Date } = {}): Promise<PortRepairProblem[]> {
    const problems: PortRepairProblem[] = [];
    const sorted = [...services].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || Number(a.metadata?.resourceVersion ?? 0) - Number(b.metadata?.resourceVersion ?? 0));
    const owners = new Map<number, string>();
    const now = (opts.now ?? new Date()).getTime();
    const old = (c: { created: string }): boolean => now - Date.parse(c.created) >= (opts.orphanGraceMs ?? 60_000);
    for (const svc of sorted) {
      const owner = objectKey(svc);
      const held = [...nodePortsOf(svc), ...(healthPortOf(svc) > 0 ? [healthPortOf(svc)] : [])];
      for (const port of new Set(held)) {
        if (!this.allocator.contains(port)) {
          problems.push({ service: svc, port, reason: 'PortOutOfRange', message: `Port ${port} is not within the port range ${this.allocator.range.text}; please recreate service` });
          continue;
        }
        const dup = (): PortRepairProblem => ({ service: svc, port, reason: 'PortAlreadyAllocated', message: `Port ${port} was assigned to multiple services; please recreate service` });
        if (owners.has(port)) { problems.push(dup()); continue; }
        if (!this.ledger) {
          try { this.allocator.allocate(port, owner); } catch { problems.push(dup()); continue; }
        } else {
          const claimed = this.ledger.claimOf(port);
          if (claimed && claimed.owner !== owner) {
            const holderHasIt = services.some((x) => objectKey(x) === claimed.owner && (nodePortsOf(x).includes(port) || healthPortOf(x) === port));
            if (holderHasIt || !old(claimed)) { problems.push(dup()); continue; }
            await this.ledger.release(port, claimed.owner);
          }
          if (claimed?.owner !== owner && await this.ledger.claim(port, owner) === 'taken') { problems.push(dup()); continue; }
          this.allocator.markUsed(port, owner);
        }
        owners.set(port, owner);
      }
    }
    if (this.ledger) {
      for (const c of this.ledger.all()) {
        if (owners.get(c.port) !== c.owner && old(c)) await this.ledger.release(c.port, c.owner);
      }
    }
    return problems;
  }
}

export type PortRepairProblem = { service: Service; port: number; reason: 'PortAlreadyAllocated' | 'PortOutOfRange'; message: string };

/**
 * Kubernetes' patchAllocatedValues for ports: an update that omits a NodePort (an apply of a
 * manifest without it) keeps the one the port had, matched by port name, unless that NodePort is
 * used by another port of the new object; likewise the healthCheckNodePort. Mutates `next`.
 */
export function patchAllocatedValues(old: Service, next: Service): void {
  if (mayHaveNodePorts(old) && mayHaveNodePorts(next)) {
    const used = new Set((next.spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p > 0));
    const byName = new Map<string, number>();
    for (const p of old.spec?.ports ?? []) if (p.nodePort) byName.set(`${p.name ?? ''}/${p.protocol ?? 'TCP'}`, p.nodePort);
    const byNameOnly = new Map<string, number>();
    for (const p of old.spec?.ports ?? []) if (p.nodePort && !byNameOnly.has(p.name ?? '')) byNameOnly.set(p.name ?? '', p.nodePort);
    for (const p of next.spec?.ports ?? []) {
      if (p.nodePort) continue;
      const prev = byName.get(`${p.name ?? ''}/${p.protocol ?? 'TCP'}`) ?? byNameOnly.get(p.name ?? '');
      if (prev !== undefined && !used.has(prev)) { p.nodePort = prev; used.add(prev); }
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(next) && !next.spec?.healthCheckNodePort) {
    next.spec!.healthCheckNodePort = old.spec?.healthCheckNodePort;
  }
}

/**
 * Kubernetes' dropTypeDependentFields (service strategy PrepareForUpdate): when the type changes,
 * fields only the old type uses are cleared — unless the client changed them itself (then
 * validation tells it they do not fit). So `kubectl patch svc x -p '{"spec":{"type":"ClusterIP"}}'`
 * on a NodePort Service works without also removing its nodePorts. Mutates `next`.
 */
export function dropTypeDependentFields(old: Service, next: Service): void {
  const o = old.spec ?? {};
  const n = next.spec;
  if (!n) return;
  if (mayHaveNodePorts(old) && !mayHaveNodePorts(next) && sameNodePorts(o.ports, n.ports)) {
    for (const p of n.ports ?? []) delete (p as { nodePort?: number }).nodePort;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(next) && (n.healthCheckNodePort ?? 0) === (o.healthCheckNodePort ?? 0)) {
    delete n.healthCheckNodePort;
  }
  const wasLB = typeOf(old) === 'LoadBalancer';
  const isLB = typeOf(next) === 'LoadBalancer';
  if (wasLB && !isLB) {
    if (n.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts) delete n.allocateLoadBalancerNodePorts;
    if (n.loadBalancerClass === o.loadBalancerClass) delete n.loadBalancerClass;
  }
  const external = (s: Service): boolean => {
    const t = typeOf(s);
    return t === 'NodePort' || t === 'LoadBalancer' || (s.spec?.externalIPs ?? []).length > 0;
  };
  if (external(old) && !external(next) && n.externalTrafficPolicy === o.externalTrafficPolicy) delete n.externalTrafficPolicy;
}

function sameNodePorts(a: ServicePort[] | undefined, b: ServicePort[] | undefined): boolean {
  const x = (a ?? []).map((p) => p.nodePort ?? 0);
  const y = (b ?? []).map((p) => p.nodePort ?? 0);
  // Ports the client dropped or added do not count as "changed a nodePort"; compare what both list.
  if (y.every((v) => v === 0)) return true;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
