/**
 * The desired state of one node's `table inet clusterip-policy`: every policy's fragment
 * (compile.ts) plus the dispatch — for each local Pod address and direction, the group of the
 * policies isolating it. A group chain holds the rules of each of those policies (any match
 * allows the packet: it `return`s to the base chain) and ends in a drop whose comment names the policies; Pods isolated by the same
 * policies share one group chain, so a Pod's dispatch is one element of a plain map.
 *
 * `Ruleset` is kept up to date one fragment at a time (`setFragment`) and remembers which
 * addresses' dispatch may have changed, so a change costs what it touches, not the cluster's size.
 */
import { compilePolicy, type PolicyFragment, type RuleNumbers } from './compile.js';
import type { ClusterSnapshot, PolicyInfo } from './model.js';
import { dropComment, groupChain, type Direction } from './policynames.js';

export const DIRECTIONS: readonly Direction[] = ['ingress', 'egress'];

/** One group chain: the Pods isolated by exactly the same policies in one direction share it. */
export interface Group {
  readonly dir: Direction;
  /** Its key in `<dir>-groups`; never reused while the process runs (a transaction may add one group and remove another). */
  readonly id: number;
  /** The policies (sorted keys). */
  readonly keys: readonly string[];
}

/** What plan.ts compares: the same shape for what was written and what is wanted. */
export interface RulesetView {
  readonly fragments: ReadonlyMap<string, PolicyFragment>;
  /** Per direction: local Pod address → group chain. */
  readonly dispatch: Readonly<Record<Direction, ReadonlyMap<string, string>>>;
  readonly groups: ReadonlyMap<string, Group>;
}

/** The rules of a group chain: each policy's rules in key order, then the drop that names them. */
export function groupRules(view: Pick<RulesetView, 'fragments'>, g: Group): string[] {
  const out: string[] = [];
  for (const k of g.keys) out.push(...(view.fragments.get(k)?.rules[g.dir] ?? []));
  out.push(`meta nftrace set 1 counter drop comment "${dropComment(g.dir, g.keys)}"`);
  return out;
}

/** Rule numbers handed out in order and kept per policy until it is removed (`release`). */
export class RuleNumberTable implements RuleNumbers {
  private next = 1;
  private readonly byRule = new Map<string, number>();
  private readonly byPolicy = new Map<string, string[]>();

  of(key: string, dir: Direction, index: number): number {
    const k = `${key} ${dir} ${index}`;
    let n = this.byRule.get(k);
    if (n === undefined) {
      this.byRule.set(k, n = this.next++);
      let l = this.byPolicy.get(key);
      if (!l) this.byPolicy.set(key, l = []);
      l.push(k);
    }
    return n;
  }

  release(key: string): void {
    for (const k of this.byPolicy.get(key) ?? []) this.byRule.delete(k);
    this.byPolicy.delete(key);
  }
}

export class Ruleset implements RulesetView {
  readonly fragments = new Map<string, PolicyFragment>();
  readonly dispatch: Record<Direction, Map<string, string>> = { ingress: new Map(), egress: new Map() };
  readonly groups = new Map<string, Group>();
  readonly numbers = new RuleNumberTable();
  /** Group chains that include each policy (to rewrite them when its rules change). */
  readonly groupsOf = new Map<string, Set<string>>();
  private nextGroupId = 1;
  /** Per direction: local address → keys of the policies isolating it. */
  private readonly members: Record<Direction, Map<string, Set<string>>> = { ingress: new Map(), egress: new Map() };
  private readonly groupUse = new Map<string, number>();
  private changedIps = new Set<string>();
  private changedPolicies = new Set<string>();
  /** Group chains created or removed since the last `takeChanged` (what the planner checks for removal). */
  private changedGroups = new Set<string>();

  /** Replaces (or removes, with undefined) the fragment of policy `key`. */
  setFragment(key: string, frag: PolicyFragment | undefined): void {
    const old = this.fragments.get(key);
    if (frag) this.fragments.set(key, frag); else { this.fragments.delete(key); this.numbers.release(key); }
    this.changedPolicies.add(key);
    for (const dir of DIRECTIONS) {
      const before = old && old[dir] ? old.selected : [];
      const after = frag && frag[dir] ? frag.selected : [];
      if (before === after) continue;
      const afterSet = new Set(after);
      const beforeSet = new Set(before);
      for (const ip of before) if (!afterSet.has(ip)) this.leave(dir, ip, key);
      for (const ip of after) if (!beforeSet.has(ip)) this.join(dir, ip, key);
    }
  }

  private join(dir: Direction, ip: string, key: string): void {
    let m = this.members[dir].get(ip);
    if (!m) this.members[dir].set(ip, m = new Set());
    m.add(key);
    this.regroup(dir, ip);
  }

  private leave(dir: Direction, ip: string, key: string): void {
    const m = this.members[dir].get(ip);
    if (!m) return;
    m.delete(key);
    if (m.size === 0) this.members[dir].delete(ip);
    this.regroup(dir, ip);
  }

  private regroup(dir: Direction, ip: string): void {
    this.changedIps.add(ip);
    const prev = this.dispatch[dir].get(ip);
    const keys = [...(this.members[dir].get(ip) ?? [])].sort();
    const next = keys.length ? groupChain(dir, keys) : undefined;
    if (prev === next) return;
    if (prev) {
      const n = (this.groupUse.get(prev) ?? 1) - 1;
      if (n <= 0) {
        this.groupUse.delete(prev);
        for (const k of this.groups.get(prev)?.keys ?? []) this.groupsOf.get(k)?.delete(prev);
        this.groups.delete(prev);
        this.changedGroups.add(prev);
      } else this.groupUse.set(prev, n);
    }
    if (next) {
      this.dispatch[dir].set(ip, next);
      const n = this.groupUse.get(next) ?? 0;
      if (n === 0) {
        this.groups.set(next, { dir, id: this.nextGroupId++, keys });
        this.changedGroups.add(next);
        for (const k of keys) {
          let s = this.groupsOf.get(k);
          if (!s) this.groupsOf.set(k, s = new Set());
          s.add(next);
        }
      }
      this.groupUse.set(next, n + 1);
    } else this.dispatch[dir].delete(ip);
  }

  /** The policies and addresses changed since the last call (the planner's work list). */
  takeChanged(): { policies: Set<string>; ips: Set<string>; groups: Set<string> } {
    const out = { policies: this.changedPolicies, ips: this.changedIps, groups: this.changedGroups };
    this.changedPolicies = new Set();
    this.changedIps = new Set();
    this.changedGroups = new Set();
    return out;
  }
}

/** The planner's model of what the kernel holds: fragments, dispatch, and each group with the rules it was written with. */
export interface Written {
  fragments: Map<string, PolicyFragment>;
  dispatch: Record<Direction, Map<string, string>>;
  groups: Map<string, Group & { rules: readonly string[] }>;
}

export function emptyWritten(): Written {
  return { fragments: new Map(), dispatch: { ingress: new Map(), egress: new Map() }, groups: new Map() };
}

/** The whole desired ruleset of `node` (the decision in one call: policies + Pods + namespaces → rules). */
export function rulesetFor(policies: readonly PolicyInfo[], snap: ClusterSnapshot, node: string): Ruleset {
  const rs = new Ruleset();
  for (const p of policies) rs.setFragment(p.key, compilePolicy(p, snap, node, rs.numbers));
  rs.takeChanged();
  return rs;
}
