/**
 * Which lines of a proxy transaction belong to one Service (pure): the trace's "rules added or
 * removed for this Service" per node sync. Works on the exact text the proxy sent to the kernel
 * (src/proxy: nft commands, or iptables-restore input), so the evidence is the kernel's input.
 *
 * nftables: map and set elements are attributed by the Service's ClusterIP (the first field of every
 * `service-ips`, `service-endpoints-*`, `no-endpoint-services` and `cluster-ips` element) or by the
 * `comment "ns/name"` on them; chains and rules by the `ns/name/` in their names
 * (`service-XXXX-ns/name/tcp/port`, `endpoint-XXXX-ns/name/...`). Hairpin elements (Pod . Pod) name
 * no Service and are not counted.
 * iptables: rules by their `--comment "ns/name ..."`; chains they jump to are then attributed too,
 * so `-X`/`-F` of a Service's `KUBE-SVC-`/`KUBE-SEP-` chains count as removed.
 */

export interface ServiceRuleChanges {
  added: number;
  removed: number;
  /** The matching lines (elements cut down to this Service's). */
  lines: string[];
  /** The transaction makes this Service's ports reject (no endpoints). */
  rejects: boolean;
  /** The transaction programs endpoints (DNAT targets) for this Service. */
  programsEndpoints: boolean;
}

const ELEMENT_LINE = /^(add|delete) element ip (\S+) (\S+) \{ (.*) \}$/;
const CHAIN_LINE = /^(add|delete|flush) (chain|rule) ip \S+ (\S+)/;

function nftChanges(text: string, key: string, clusterIP: string | undefined, maxLines: number): ServiceRuleChanges {
  const out: ServiceRuleChanges = { added: 0, removed: 0, lines: [], rejects: false, programsEndpoints: false };
  const chainTag = `-${key}/`;
  const comment = `comment "${key}"`;
  const ipPrefix = clusterIP ? `${clusterIP} ` : undefined;
  for (const line of text.split('\n')) {
    if (!line.includes(key) && !(ipPrefix && line.includes(ipPrefix))) continue;
    const e = ELEMENT_LINE.exec(line);
    if (e) {
      const [, op, table, set, body] = e;
      const mine = body!.split(' , ').filter((el) => (ipPrefix && (el.startsWith(ipPrefix) || el === clusterIP)) || el.includes(comment));
      if (mine.length === 0) continue;
      if (op === 'add') out.added += mine.length; else out.removed += mine.length;
      if (op === 'add' && set === 'no-endpoint-services') out.rejects = true;
      if (op === 'add' && (set!.startsWith('service-endpoints-') || set === 'service-ips')) out.programsEndpoints = true;
      if (out.lines.length < maxLines) out.lines.push(`${op} element ip ${table} ${set} { ${mine.join(' , ')} }`);
      continue;
    }
    const c = CHAIN_LINE.exec(line);
    if (c && c[3]!.includes(chainTag)) {
      const [, op, what] = c;
      if (op === 'add') { if (what === 'rule') out.added++; } else out.removed++;
      if (op === 'add' && what === 'rule' && line.includes(' dnat ')) out.programsEndpoints = true;
      if (out.lines.length < maxLines) out.lines.push(line);
    }
  }
  return out;
}

function iptablesChanges(text: string, key: string, maxLines: number): ServiceRuleChanges {
  const out: ServiceRuleChanges = { added: 0, removed: 0, lines: [], rejects: false, programsEndpoints: false };
  const lines = text.split('\n');
  const commentRE = new RegExp(`--comment "${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ :"]`);
  const chains = new Set<string>();
  for (const line of lines) {
    if (!commentRE.test(line)) continue;
    const m = /^-([AID]) (\S+)/.exec(line);
    if (!m) continue;
    if (m[2]!.startsWith('KUBE-SVC-') || m[2]!.startsWith('KUBE-SEP-')) chains.add(m[2]!);
    const jump = / -j (KUBE-(?:SVC|SEP)-\S+)/.exec(line);
    if (jump) chains.add(jump[1]!);
    if (m[1] === 'D') out.removed++; else out.added++;
    if (m[1] !== 'D' && / -j REJECT/.test(line) && line.includes('has no endpoints')) out.rejects = true;
    if (m[1] !== 'D' && / -j DNAT/.test(line)) out.programsEndpoints = true;
    if (out.lines.length < maxLines) out.lines.push(line);
  }
  for (const line of lines) {
    const m = /^-([XF]) (\S+)$/.exec(line);
    if (!m || !chains.has(m[2]!)) continue;
    out.removed++;
    if (out.lines.length < maxLines) out.lines.push(line);
  }
  return out;
}

/** The lines of `transaction` (nft or iptables-restore text) that belong to Service `key` (`ns/name`). */
export function serviceRuleChanges(mode: 'nftables' | 'iptables' | 'userspace', transaction: string, key: string, clusterIP: string | undefined, maxLines = 8): ServiceRuleChanges {
  return mode === 'nftables' ? nftChanges(transaction, key, clusterIP, maxLines) : iptablesChanges(transaction, key, maxLines);
}
