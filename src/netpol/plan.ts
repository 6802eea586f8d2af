/**
 * Rulesets → nft transactions (pure). `fullTransaction` rewrites the whole table (the first sync,
 * and the one after any failure, as the proxy does); `planIncremental` sends only what changed for
 * the policies and addresses it is told about, in an order the kernel accepts inside one
 * transaction: declare new sets and chains, update elements, refill changed chains, add new group
 * chains, switch dispatch elements, then remove what nothing references any more.
 */
import type { NftSet, PolicyFragment } from './compile.js';
import { DISPATCH_MAP, GROUP_MAP, TABLE_REF, type Direction } from './names.js';
import { DIRECTIONS, emptyView, type RulesetView } from './ruleset.js';

/** Base chains: `ingress`/`egress` on forward (routed and bridged Pod traffic, after the Service
 *  DNAT), `egress-local` on input (Pods to the node's own addresses). Established and related
 *  packets are accepted first, so only a connection's first packet is judged, as CNIs do. Egress
 *  runs just before ingress; an `accept` ends only its own base chain, a `drop` is final. */
const BASE_CHAINS: readonly { name: string; hook: string; priority: string; match: string; dir: Direction }[] = [
  { name: 'egress', hook: 'forward', priority: 'filter - 1', match: 'ip saddr', dir: 'egress' },
  { name: 'egress-local', hook: 'input', priority: 'filter - 1', match: 'ip saddr', dir: 'egress' },
  { name: 'ingress', hook: 'forward', priority: 'filter', match: 'ip daddr', dir: 'ingress' },
];

/** The dispatch rule of a base chain: address → group number (in ct mark) → jump to the group chain. */
function dispatchRule(b: (typeof BASE_CHAINS)[number]): string {
  return `ct mark set ${b.match} map @${DISPATCH_MAP[b.dir]} ct mark vmap @${GROUP_MAP[b.dir]}`;
}

function setDecl(s: NftSet): string {
  return `add set ${TABLE_REF} ${s.name} { type ${s.type};${s.interval ? ' flags interval;' : ''} }`;
}

/** `add element` / `delete element` commands for `elements`, in chunks nft reads quickly. */
function elementCmds(verb: 'add' | 'delete', set: string, elements: readonly string[], out: string[]): void {
  for (let i = 0; i < elements.length; i += 1000) out.push(`${verb} element ${TABLE_REF} ${set} { ${elements.slice(i, i + 1000).join(', ')} }`);
}

function rulesOf(chain: string, rules: readonly string[], out: string[]): void {
  for (const r of rules) out.push(`add rule ${TABLE_REF} ${chain} ${r}`);
}

/** The whole table as one transaction (replaces whatever the table held). */
export function fullTransaction(rs: RulesetView): string {
  const out = [`add table ${TABLE_REF}`, `delete table ${TABLE_REF}`, `add table ${TABLE_REF}`];
  for (const dir of DIRECTIONS) {
    out.push(`add map ${TABLE_REF} ${DISPATCH_MAP[dir]} { typeof ${dir === 'ingress' ? 'ip daddr' : 'ip saddr'} : ct mark; }`);
    out.push(`add map ${TABLE_REF} ${GROUP_MAP[dir]} { typeof ct mark : verdict; }`);
  }
  const keys = [...rs.fragments.keys()].sort();
  for (const k of keys) {
    const f = rs.fragments.get(k)!;
    for (const s of f.sets.values()) { out.push(setDecl(s)); elementCmds('add', s.name, s.elements, out); }
    for (const c of f.chains.keys()) out.push(`add chain ${TABLE_REF} ${c}`);
  }
  const groups = [...rs.groups.keys()].sort();
  for (const g of groups) out.push(`add chain ${TABLE_REF} ${g}`);
  for (const k of keys) for (const [c, rules] of rs.fragments.get(k)!.chains) rulesOf(c, rules, out);
  for (const g of groups) rulesOf(g, rs.groups.get(g)!.rules, out);
  for (const dir of DIRECTIONS) {
    elementCmds('add', GROUP_MAP[dir], groups.filter((g) => rs.groups.get(g)!.dir === dir).map((g) => `${rs.groups.get(g)!.id} : jump ${g}`), out);
    const els = [...rs.dispatch[dir]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ip, g]) => `${ip} : ${rs.groups.get(g)!.id}`);
    elementCmds('add', DISPATCH_MAP[dir], els, out);
  }
  for (const b of BASE_CHAINS) {
    out.push(`add chain ${TABLE_REF} ${b.name} { type filter hook ${b.hook} priority ${b.priority}; policy accept; }`);
    out.push(`add rule ${TABLE_REF} ${b.name} ct state established,related accept`);
    out.push(`add rule ${TABLE_REF} ${b.name} ${dispatchRule(b)}`);
  }
  return out.join('\n') + '\n';
}

function sameRules(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}

function elementDiff(before: readonly string[], after: readonly string[]): { add: string[]; del: string[] } {
  if (before === after) return { add: [], del: [] };
  const b = new Set(before);
  const a = new Set(after);
  return { add: after.filter((x) => !b.has(x)), del: before.filter((x) => !a.has(x)) };
}

/** The model after a plan is committed. */
export type Written = ReturnType<typeof emptyView>;

export interface Plan {
  /** nft commands, one per line ('' when nothing changes). */
  readonly text: string;
  /** Records the plan as written (call once the kernel accepted it). */
  commit(): void;
}

/**
 * The commands that turn `written` into `desired` for the changed `policies` and `ips` (everything
 * else is assumed equal). Pure until `commit`, which updates `written`.
 */
export function planIncremental(written: Written, desired: RulesetView, changed: { policies: ReadonlySet<string>; ips: ReadonlySet<string> }): Plan {
  const declare: string[] = [];
  const fill: string[] = [];
  const groupsAdd: string[] = [];
  const dispatch: string[] = [];
  const removeGroups: string[] = [];
  const removePolicies: string[] = [];
  const commits: (() => void)[] = [];

  for (const key of changed.policies) {
    const old = written.fragments.get(key);
    const neu = desired.fragments.get(key);
    if (old === neu) continue;
    for (const s of neu?.sets.values() ?? []) {
      const o = old?.sets.get(s.name);
      if (!o) { declare.push(setDecl(s)); elementCmds('add', s.name, s.elements, declare); continue; }
      const d = elementDiff(o.elements, s.elements);
      elementCmds('delete', s.name, d.del, fill);
      elementCmds('add', s.name, d.add, fill);
    }
    for (const [c, rules] of neu?.chains ?? []) {
      const o = old?.chains.get(c);
      if (o === undefined) { declare.push(`add chain ${TABLE_REF} ${c}`); rulesOf(c, rules, fill); } else if (!sameRules(o, rules)) {
        fill.push(`flush chain ${TABLE_REF} ${c}`);
        rulesOf(c, rules, fill);
      }
    }
    for (const c of old?.chains.keys() ?? []) {
      if (!neu?.chains.has(c)) removePolicies.push(`flush chain ${TABLE_REF} ${c}`, `delete chain ${TABLE_REF} ${c}`);
    }
    for (const s of old?.sets.keys() ?? []) if (!neu?.sets.has(s)) removePolicies.push(`delete set ${TABLE_REF} ${s}`);
    commits.push(() => { if (neu) written.fragments.set(key, neu); else written.fragments.delete(key); });
  }

  const groupSeen = new Set<string>();
  for (const ip of changed.ips) {
    for (const dir of DIRECTIONS) {
      const o = written.dispatch[dir].get(ip);
      const n = desired.dispatch[dir].get(ip);
      if (o === n) continue;
      if (n && written.groups.get(n)?.id !== desired.groups.get(n)!.id && !groupSeen.has(n)) {
        groupSeen.add(n);
        const group = desired.groups.get(n)!;
        // The chain may still be there under an older number (its last Pod left and another joined
        // in the same sync): then only the number is new.
        if (!written.groups.has(n)) {
          groupsAdd.push(`add chain ${TABLE_REF} ${n}`);
          rulesOf(n, group.rules, groupsAdd);
        }
        groupsAdd.push(`add element ${TABLE_REF} ${GROUP_MAP[dir]} { ${group.id} : jump ${n} }`);
        commits.push(() => written.groups.set(n, group));
      }
      if (o) dispatch.push(`delete element ${TABLE_REF} ${DISPATCH_MAP[dir]} { ${ip} }`);
      if (n) dispatch.push(`add element ${TABLE_REF} ${DISPATCH_MAP[dir]} { ${ip} : ${desired.groups.get(n)!.id} }`);
      commits.push(() => { if (n) written.dispatch[dir].set(ip, n); else written.dispatch[dir].delete(ip); });
    }
  }
  // Groups nobody dispatches to any more (a changed address or policy was their last user).
  if (changed.ips.size > 0 || changed.policies.size > 0) {
    for (const [g, group] of written.groups) {
      const now = desired.groups.get(g);
      if (now?.id === group.id) continue;
      if (now) { removeGroups.push(`delete element ${TABLE_REF} ${GROUP_MAP[group.dir]} { ${group.id} }`); continue; }
      removeGroups.push(`delete element ${TABLE_REF} ${GROUP_MAP[group.dir]} { ${group.id} }`, `flush chain ${TABLE_REF} ${g}`, `delete chain ${TABLE_REF} ${g}`);
      commits.push(() => written.groups.delete(g));
    }
  }
  const text = [...declare, ...fill, ...groupsAdd, ...dispatch, ...removeGroups, ...removePolicies].join('\n');
  return {
    text: text ? `${text}\n` : '',
    commit: () => { for (const c of commits) c(); },
  };
}

/** The model of a table just written by `fullTransaction(desired)`. */
export function writtenFrom(desired: RulesetView): Written {
  const w = emptyView();
  for (const [k, f] of desired.fragments) w.fragments.set(k, f);
  for (const dir of DIRECTIONS) for (const [ip, g] of desired.dispatch[dir]) w.dispatch[dir].set(ip, g);
  for (const [g, r] of desired.groups) w.groups.set(g, r);
  return w;
}
