/**
 * Rulesets → nft transactions (pure). `fullTransaction` rewrites the whole table (the first sync,
 * and the one after any failure, as the proxy does); `planIncremental` sends only what changed for
 * the policies and addresses it is told about, in an order the kernel accepts inside one
 * transaction: set elements (deletions first: interval sets refuse overlaps), new and rewritten
 * group chains, dispatch elements, then the groups nothing dispatches to any more.
 */
import type { PolicyFragment } from './compile.js';
import { DISPATCH_MAP, GROUP_MAP, SHARED_SETS, TABLE_REF, type Direction } from './policynames.js';
import { DIRECTIONS, emptyWritten, groupRules, type Group, type RulesetView, type Written } from './ruleset.js';

export type { Written } from './ruleset.js';

/**
 * Base chains, one per hook: `forward` (routed and bridged Pod traffic, after the Service DNAT)
 * judges egress by the source, then ingress by the destination; `egress-local` on input (Pods to the
 * node's own addresses) judges egress. Established and related packets are accepted first, so only
 * a connection's first packet is judged, as CNIs do. A group chain's allow rules `return` to the
 * base chain (so egress allowed goes on to ingress, and ingress allowed ends at the chain's accept
 * policy); its drop is final. One chain per hook rather than one per direction: every packet
 * crossing the node (replies, the rest of each connection) passes one base chain and one conntrack
 * test instead of two (bench/netpol).
 */
const BASE_CHAINS: readonly { name: string; hook: string; priority: string; dirs: readonly Direction[] }[] = [
  { name: 'forward', hook: 'forward', priority: 'filter', dirs: ['egress', 'ingress'] },
  { name: 'egress-local', hook: 'input', priority: 'filter', dirs: ['egress'] },
];

/** The dispatch rule of one direction: address → group number (in ct mark) → jump to the group chain. */
function dispatchRule(dir: Direction): string {
  return `ct mark set ${dir === 'ingress' ? 'ip daddr' : 'ip saddr'} map @${DISPATCH_MAP[dir]} ct mark vmap @${GROUP_MAP[dir]}`;
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
  for (const s of Object.values(SHARED_SETS)) out.push(`add set ${TABLE_REF} ${s.name} { typeof ${s.typeof};${s.interval ? ' flags interval;' : ''} }`);
  const keys = [...rs.fragments.keys()].sort();
  for (const s of Object.values(SHARED_SETS)) {
    const els: string[] = [];
    for (const k of keys) els.push(...(rs.fragments.get(k)!.elements.get(s.name) ?? []));
    elementCmds('add', s.name, els, out);
  }
  const groups = [...rs.groups.keys()].sort();
  for (const g of groups) { out.push(`add chain ${TABLE_REF} ${g}`); rulesOf(g, groupRules(rs, rs.groups.get(g)!), out); }
  for (const dir of DIRECTIONS) {
    elementCmds('add', GROUP_MAP[dir], groups.filter((g) => rs.groups.get(g)!.dir === dir).map((g) => `${rs.groups.get(g)!.id} : jump ${g}`), out);
    const els = [...rs.dispatch[dir]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ip, g]) => `${ip} : ${rs.groups.get(g)!.id}`);
    elementCmds('add', DISPATCH_MAP[dir], els, out);
  }
  for (const b of BASE_CHAINS) {
    out.push(`add chain ${TABLE_REF} ${b.name} { type filter hook ${b.hook} priority ${b.priority}; policy accept; }`);
    out.push(`add rule ${TABLE_REF} ${b.name} ct state established,related accept`);
    for (const dir of b.dirs) out.push(`add rule ${TABLE_REF} ${b.name} ${dispatchRule(dir)}`);
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
export function planIncremental(written: Written, desired: RulesetView & { groupsOf?: ReadonlyMap<string, ReadonlySet<string>> }, changed: { policies: ReadonlySet<string>; ips: ReadonlySet<string>; groups?: ReadonlySet<string> }): Plan {
  const dels: string[] = [];
  const adds: string[] = [];
  const groupCmds: string[] = [];
  const dispatch: string[] = [];
  const removeGroups: string[] = [];
  const commits: (() => void)[] = [];

  // Set elements of the changed policies.
  for (const key of changed.policies) {
    const old = written.fragments.get(key);
    const neu = desired.fragments.get(key);
    if (old === neu) continue;
    for (const s of Object.values(SHARED_SETS)) {
      const d = elementDiff(old?.elements.get(s.name) ?? [], neu?.elements.get(s.name) ?? []);
      elementCmds('delete', s.name, d.del, dels);
      elementCmds('add', s.name, d.add, adds);
    }
    commits.push(() => { if (neu) written.fragments.set(key, neu); else written.fragments.delete(key); });
  }

  // Group chains: new ones, and existing ones whose policies' rules changed.
  const toCheck = new Set<string>();
  for (const key of changed.policies) for (const g of desired.groupsOf?.get(key) ?? []) toCheck.add(g);
  for (const ip of changed.ips) for (const dir of DIRECTIONS) { const g = desired.dispatch[dir].get(ip); if (g) toCheck.add(g); }
  if (!desired.groupsOf) for (const g of desired.groups.keys()) toCheck.add(g);
  for (const g of toCheck) {
    const group = desired.groups.get(g);
    if (!group) continue;
    const rules = groupRules(desired, group);
    const w = written.groups.get(g);
    if (!w) {
      groupCmds.push(`add chain ${TABLE_REF} ${g}`);
      rulesOf(g, rules, groupCmds);
    } else if (!sameRules(w.rules, rules)) {
      groupCmds.push(`flush chain ${TABLE_REF} ${g}`);
      rulesOf(g, rules, groupCmds);
    }
    // A new group, or one emptied and filled again in this sync (a new number).
    if (w?.id !== group.id) groupCmds.push(`add element ${TABLE_REF} ${GROUP_MAP[group.dir]} { ${group.id} : jump ${g} }`);
    if (!w || w.id !== group.id || !sameRules(w.rules, rules)) commits.push(() => written.groups.set(g, { ...group, rules }));
  }

  for (const ip of changed.ips) {
    for (const dir of DIRECTIONS) {
      const o = written.dispatch[dir].get(ip);
      const n = desired.dispatch[dir].get(ip);
      const oid = o ? written.groups.get(o)?.id : undefined;
      const nid = n ? desired.groups.get(n)!.id : undefined;
      if (o === n && oid === nid) continue;
      if (o) dispatch.push(`delete element ${TABLE_REF} ${DISPATCH_MAP[dir]} { ${ip} }`);
      if (n) dispatch.push(`add element ${TABLE_REF} ${DISPATCH_MAP[dir]} { ${ip} : ${nid} }`);
      commits.push(() => { if (n) written.dispatch[dir].set(ip, n); else written.dispatch[dir].delete(ip); });
    }
  }
  // Groups nobody dispatches to any more, and old numbers of groups that got a new one. Only groups
  // created or removed since the last plan can be such (`changed.groups`, from the Ruleset); without
  // that list, every written group is checked.
  if (changed.ips.size > 0 || changed.policies.size > 0) {
    const candidates = changed.groups ?? written.groups.keys();
    for (const g of candidates) {
      const group = written.groups.get(g);
      if (!group) continue;
      const now = desired.groups.get(g);
      if (now?.id === group.id) continue;
      removeGroups.push(`delete element ${TABLE_REF} ${GROUP_MAP[group.dir]} { ${group.id} }`);
      if (now) continue;
      removeGroups.push(`flush chain ${TABLE_REF} ${g}`, `delete chain ${TABLE_REF} ${g}`);
      commits.push(() => written.groups.delete(g));
    }
  }
  const text = [...dels, ...adds, ...groupCmds, ...dispatch, ...removeGroups].join('\n');
  return {
    text: text ? `${text}\n` : '',
    commit: () => { for (const c of commits) c(); },
  };
}

/** The model of a table just written by `fullTransaction(desired)`. */
export function writtenFrom(desired: RulesetView): Written {
  const w = emptyWritten();
  for (const [k, f] of desired.fragments) w.fragments.set(k, f);
  for (const dir of DIRECTIONS) for (const [ip, g] of desired.dispatch[dir]) w.dispatch[dir].set(ip, g);
  for (const [g, group] of desired.groups) w.groups.set(g, { ...group, rules: groupRules(desired, group) });
  return w;
}

export type { Group, PolicyFragment };
