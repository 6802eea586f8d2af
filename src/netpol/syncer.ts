/**
 * `PolicySyncer`: keeps one node's `table inet clusterip-policy` equal to the policies, Pods and
 * namespaces it is told about, as the proxy does for Services. Events only record which policies
 * they may affect; one sync recompiles those policies (compile.ts), updates the desired ruleset and
 * sends the difference as one nft transaction (plan.ts). The first sync and the one after any
 * failure rewrite the whole table; a periodic full resync repairs anything changed behind its back.
 *
 * Which policies a Pod change may affect: the policies of its namespace (their podSelector and
 * same-namespace peers) and the "global" policies — those with a namespaceSelector peer or an egress
 * named port resolved on any destination — which read Pods of other namespaces. A namespace's labels
 * affect only policies with a namespaceSelector.
 */
import type { KernelSession } from '../proxy/session.js';
import type { NetnsExec } from '../proxy/exec.js';
import { matchesLabelSelector } from '../api/selectors.js';
import { compilePolicy, selects } from './compile.js';
import { hasPolicyAddress, Snapshot, type NamespaceInfo, type PodInfo, type PolicyInfo } from './model.js';
import { TABLE_REF } from './policynames.js';
import { fullTransaction, planIncremental, writtenFrom, type Written } from './plan.js';
import { Ruleset } from './ruleset.js';

/** Transactions up to this size go through the long-lived `nft -i` session (as the proxy). */
const SESSION_MAX_BYTES = 256 * 1024;

export interface SyncResult {
  full: boolean;
  /** Policies recompiled by this sync. */
  policies: number;
  transaction: string;
  durationMs: number;
  /** Of which: recompiling the dirty policies and planning the transaction. */
  decideMs: number;
}

export class NetworkPolicyError extends Error {
  constructor(readonly code: 'KERNEL_COMMAND_FAILED' | 'INVALID_OPTIONS', message: string) {
    super(message);
    this.name = 'NetworkPolicyError';
  }
}

function samePod(a: PodInfo | undefined, b: PodInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ip === b.ip && a.node === b.node && a.hostNetwork === b.hostNetwork && a.terminal === b.terminal
    && JSON.stringify(a.labels) === JSON.stringify(b.labels) && JSON.stringify(a.ports) === JSON.stringify(b.ports);
}

/** Whether a policy's compilation reads Pods or namespaces outside its own namespace. */
function isGlobal(p: PolicyInfo): boolean {
  const ingressPeers = (p.spec.ingress ?? []).flatMap((r) => r.from ?? []);
  const egressRules = p.spec.egress ?? [];
  const egressPeers = egressRules.flatMap((r) => r.to ?? []);
  if ([...ingressPeers, ...egressPeers].some((x) => x.namespaceSelector)) return true;
  return egressRules.some((r) => (r.ports ?? []).some((x) => typeof x.port === 'string')
    && ((r.to ?? []).length === 0 || (r.to ?? []).some((x) => x.ipBlock)));
}

export class PolicySyncer {
  readonly snapshot = new Snapshot();
  private readonly policies = new Map<string, PolicyInfo>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly global = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly desired = new Ruleset();
  private written: Written | undefined;
  private needFull = true;

  constructor(private readonly node: string, private readonly exec: NetnsExec, private readonly session?: KernelSession) {}

  /** A policy was added, changed (`p`) or deleted (undefined). */
  policyChanged(key: string, p: PolicyInfo | undefined): void {
    const old = this.policies.get(key);
    if (old) { this.byNamespace.get(old.namespace)?.delete(key); this.global.delete(key); }
    if (p) {
      this.policies.set(key, p);
      let s = this.byNamespace.get(p.namespace);
      if (!s) this.byNamespace.set(p.namespace, s = new Set());
      s.add(key);
      if (isGlobal(p)) this.global.add(key);
    } else this.policies.delete(key);
    this.dirty.add(key);
  }

  /** A Pod was added, changed or deleted. Returns whether any policy may be affected. */
  podChanged(old: PodInfo | undefined, cur: PodInfo | undefined): boolean {
    const o = old ?? (cur ? this.snapshot.pod(cur.namespace, cur.name) : undefined);
    if (cur) this.snapshot.setPod(cur); else if (o) this.snapshot.deletePod(o.namespace, o.name);
    if (samePod(o, cur)) return false;
    const ns = (cur ?? o)!.namespace;
    let any = false;
    // Only the policies the Pod mattered to before or matters to now: a selector test per
    // candidate policy costs far less than recompiling it.
    const consider = (k: string): void => {
      if (this.dirty.has(k)) { any = true; return; }
      const p = this.policies.get(k);
      if (p && ((o && this.podMatters(p, o)) || (cur && this.podMatters(p, cur)))) { this.dirty.add(k); any = true; }
    };
    for (const k of this.byNamespace.get(ns) ?? []) consider(k);
    for (const k of this.global) consider(k);
    return any;
  }

  /** Whether `pod` takes part in policy `p`'s rules on this node: selected here, a peer, or a named-port destination. */
  private podMatters(p: PolicyInfo, pod: PodInfo): boolean {
    if (!hasPolicyAddress(pod)) return false;
    if (pod.node === this.node && selects(p, pod)) return true;
    const nsLabels = this.snapshot.namespace(pod.namespace)?.labels ?? {};
    const peers = [...(p.spec.ingress ?? []).flatMap((r) => r.from ?? []), ...(p.spec.egress ?? []).flatMap((r) => r.to ?? [])];
    for (const peer of peers) {
      if (peer.ipBlock || (!peer.podSelector && !peer.namespaceSelector)) continue;
      if (peer.namespaceSelector ? !matchesLabelSelector(peer.namespaceSelector, nsLabels) : pod.namespace !== p.namespace) continue;
      if (!peer.podSelector || matchesLabelSelector(peer.podSelector, pod.labels)) return true;
    }
    // Egress named ports resolved on any destination (compile.ts): a Pod with named ports counts.
    return pod.ports.length > 0 && (p.spec.egress ?? []).some((r) => (r.ports ?? []).some((x) => typeof x.port === 'string'));
  }

  /** A namespace was added, changed or deleted. */
  namespaceChanged(old: NamespaceInfo | undefined, cur: NamespaceInfo | undefined): boolean {
    if (cur) this.snapshot.setNamespace(cur); else if (old) this.snapshot.deleteNamespace(old.name);
    if (old && cur && JSON.stringify(old.labels) === JSON.stringify(cur.labels)) return false;
    // Only policies with a namespaceSelector that matched the namespace before or matches it now.
    let any = false;
    for (const k of this.global) {
      const p = this.policies.get(k)!;
      const peers = [...(p.spec.ingress ?? []).flatMap((r) => r.from ?? []), ...(p.spec.egress ?? []).flatMap((r) => r.to ?? [])];
      if (peers.some((x) => x.namespaceSelector && ((old && matchesLabelSelector(x.namespaceSelector, old.labels)) || (cur && matchesLabelSelector(x.namespaceSelector, cur.labels))))) {
        this.dirty.add(k);
        any = true;
      }
    }
    return any;
  }

  /** Asks the next sync to rewrite the whole table (periodic resync, or after an error). */
  forceFull(): void {
    this.needFull = true;
  }

  /** Whether changes are waiting for a sync. */
  get pending(): boolean {
    return this.dirty.size > 0 || this.needFull;
  }

  /** Folds the recorded changes in and writes them; one transaction. */
  async sync(now: () => number = () => performance.now()): Promise<SyncResult> {
    const start = now();
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const k of keys) {
      const p = this.policies.get(k);
      this.desired.setFragment(k, p ? compilePolicy(p, this.snapshot, this.node, this.desired.numbers) : undefined);
    }
    const full = this.needFull || !this.written;
    const changed = this.desired.takeChanged();
    let text: string;
    let decideMs: number;
    try {
      if (full) {
        text = fullTransaction(this.desired);
        decideMs = now() - start;
        await this.apply(text, true);
        this.written = writtenFrom(this.desired);
      } else {
        const plan = planIncremental(this.written!, this.desired, changed);
        text = plan.text;
        decideMs = now() - start;
        if (text) await this.apply(text, false);
        plan.commit();
      }
    } catch (err) {
      // The kernel may hold anything now: the next sync rewrites everything.
      this.needFull = true;
      this.written = undefined;
      throw err;
    }
    this.needFull = false;
    // The `nft -i` session runs while policies exist, started ahead of their next change (also
    // when this sync wrote nothing, e.g. a policy that selects no Pod yet). Without policies it is
    // ended (~4 MB resident; most clusters never have a NetworkPolicy) until one comes.
    if (this.policies.size === 0) this.session?.recycle(); else this.session?.warm();
    return { full, policies: keys.length, transaction: text, durationMs: now() - start, decideMs };
  }

  private async apply(text: string, full: boolean): Promise<void> {
    if (this.session && !full && text.length <= SESSION_MAX_BYTES) return this.session.run(text);
    const r = await this.exec(['nft', '-f', '-'], text);
    if (r.code !== 0) throw new NetworkPolicyError('KERNEL_COMMAND_FAILED', `nft -f - exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  }

  /** Removes the table (`stop({ flush: true })`). */
  async flush(): Promise<void> {
    const r = await this.exec(['nft', 'delete', 'table', ...TABLE_REF.split(' ')]);
    if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
      throw new NetworkPolicyError('KERNEL_COMMAND_FAILED', `nft delete table ${TABLE_REF}: ${r.stderr.trim()}`);
    }
    this.written = undefined;
    this.needFull = true;
  }
}
