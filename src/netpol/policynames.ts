/**
 * The one place that names what the kernel sees (as src/proxy/chainnames.ts does for the proxy): a short
 * hash of the policy's `namespace/name` makes names unique and stable across restarts, the readable
 * tail makes `nft list table inet clusterip-policy` debuggable. nftables names are at most 255
 * bytes of [A-Za-z0-9_./-]; namespace and policy names are DNS subdomains, so only length matters.
 */
import { hashName, NFT_NAME_MAX } from '../proxy/chainnames.js';

/** The nftables table of NetworkPolicy enforcement in each node namespace. */
export const TABLE = 'clusterip-policy';
/** `inet`: IPv4 rules (`ip saddr ...`) here; IPv6 packets match none of them and pass. */
export const FAMILY = 'inet';
/** `inet clusterip-policy`, as nft commands name it. */
export const TABLE_REF = `${FAMILY} ${TABLE}`;

export type Direction = 'ingress' | 'egress';

/**
 * Dispatch, two lookups on a connection's first packet: `<dir>-pods` maps a local Pod's address to
 * the number of its group (kept in the connection's ct mark as a register), `<dir>-groups` maps that
 * number to `jump <group chain>`. A Pod changing group is then one element of a plain map — nft
 * needs no chain cache for it, which a verdict map keyed by address would (tens of ms at 1k policies).
 */
export const DISPATCH_MAP: Record<Direction, string> = { ingress: 'ingress-pods', egress: 'egress-pods' };
export const GROUP_MAP: Record<Direction, string> = { ingress: 'ingress-groups', egress: 'egress-groups' };

const SHORT: Record<Direction, string> = { ingress: 'in', egress: 'out' };

function clip(name: string): string {
  return name.length <= NFT_NAME_MAX ? name : name.slice(0, NFT_NAME_MAX);
}

/** Hash of a policy key; the prefix of every object of that policy. */
export function policyHash(key: string): string {
  return hashName(key, 8);
}

/**
 * The five sets every rule looks up, keyed by the rule's number in the connection mark (few kernel
 * objects: nft refreshes its cache of the table's sets and chains before every transaction, so
 * their number, not their elements, sets the price of each change — bench/netpol/README.md).
 */
export const SHARED_SETS = {
  /** Peer Pods' addresses: `10.244.0.11 . N`. */
  pods: { name: 'peer-pods', typeof: 'ip saddr . ct mark', interval: false },
  /** ipBlocks minus excepts: `10.0.0.0/8 . N`, `10.244.0.0-10.244.0.10 . N`. */
  cidrs: { name: 'peer-cidrs', typeof: 'ip saddr . ct mark', interval: true },
  /** Numeric ports, one by one: `tcp . 8080 . N` (a hash: most rules name single ports). */
  ports: { name: 'rule-ports', typeof: 'meta l4proto . th dport . ct mark', interval: false },
  /**
   * endPort ranges wider than RANGE_AS_PORTS: `tcp . 8000-8100 . N` (a protocol alone: `tcp .
   * 0-65535 . N`). An interval set of concatenations is looked up by nft's pipapo algorithm, whose
   * cost grows with the number of elements of the whole set; with every single port in it, that
   * lookup was most of what 1k policies added to a new connection (bench/netpol).
   */
  portRanges: { name: 'rule-port-ranges', typeof: 'meta l4proto . th dport . ct mark', interval: true },
  /** Named ports resolved on each destination Pod: `10.244.0.5 . tcp . 8080 . N`. */
  named: { name: 'named-ports', typeof: 'ip daddr . meta l4proto . th dport . ct mark', interval: false },
} as const;

/**
 * The chain shared by every local Pod isolated by exactly `keys` (sorted) in `dir`:
 * `in-<hash10>-default/deny-all_default/web` (policy keys joined by `_`, which no namespace or
 * policy name contains; clipped at nftables' limit). The names are in the chain's name, not only
 * in its drop rule's comment, because `nft monitor trace` prints a rule added after it started as
 * `unknown rule handle N` but always prints the chain's name: `clusterip flows` reads them there.
 */
export function groupChain(dir: Direction, keys: readonly string[]): string {
  return clip(`${SHORT[dir]}-${hashName(keys.join(','), 10)}-${keys.join('_')}`);
}

/** The direction and policy keys a group chain's name carries (the last may be clipped); undefined for other chains. */
export function parseGroupChain(name: string): { dir: Direction; keys: string[]; clipped: boolean } | undefined {
  const m = /^(in|out)-[A-Z2-7]{10}-(.+)$/.exec(name);
  if (!m) return undefined;
  return { dir: m[1] === 'in' ? 'ingress' : 'egress', keys: m[2]!.split('_'), clipped: name.length >= NFT_NAME_MAX };
}

/**
 * The comment on a group's drop rule, which `nft monitor trace` prints with the drop (so `clusterip
 * flows` names the policies): `NetworkPolicy ingress default/deny-all default/web`. nftables
 * comments hold at most 128 bytes: past that, `+N more`.
 */
export function dropComment(dir: Direction, keys: readonly string[]): string {
  const head = `NetworkPolicy ${dir}:`;
  let text = head;
  for (let i = 0; i < keys.length; i++) {
    const more = keys.length - i - 1;
    const next = `${text} ${keys[i]}`;
    const tail = more > 0 ? ` +${more} more` : '';
    if (next.length + tail.length > 127) return `${text} +${keys.length - i} more`;
    text = next;
  }
  return text;
}

/** The policy keys a drop comment names (without the `+N more`), for flows and diagnose. */
export function parseDropComment(comment: string): { dir: Direction; keys: string[]; more: number } | undefined {
  const m = /^NetworkPolicy (ingress|egress):((?: [^ ]+?)*?)(?: \+(\d+) more)?$/.exec(comment);
  if (!m) return undefined;
  return { dir: m[1] as Direction, keys: m[2]!.trim() ? m[2]!.trim().split(' ') : [], more: Number(m[3] ?? 0) };
}
