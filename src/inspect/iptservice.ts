/**
 * Picks the rules that carry one Service out of `iptables-save -c` text (the proxy's iptables mode,
 * kube-proxy's chain shape): nat KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-… (DNAT), and filter
 * KUBE-SERVICES rejects for ports without endpoints. Each rule keeps the text and `[packets:bytes]`
 * iptables-save printed. Pure.
 */
import type { Counter, KernelEndpoint, KernelServicePort, ServicePortView } from './types.js';

export interface IptRule {
  table: string;
  chain: string;
  /** `[p:b] -A CHAIN ...` as printed. */
  text: string;
  counter?: Counter;
  /** The rule without the counter prefix. */
  spec: string;
}

/** Parses `iptables-save [-c]` output into rules per table. */
export function parseIptablesSave(text: string): IptRule[] {
  const rules: IptRule[] = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) { table = line.slice(1).trim(); continue; }
    const m = /^(?:\[(\d+):(\d+)\] )?(-A (\S+) .*)$/.exec(line);
    if (!m) continue;
    rules.push({
      table, chain: m[4]!, text: line, spec: m[3]!,
      ...(m[1] !== undefined ? { counter: { packets: Number(m[1]), bytes: Number(m[2]) } } : {}),
    });
  }
  return rules;
}

export interface IptServiceRules {
  text: string;
  ports: KernelServicePort[];
  hairpin: string[];
}

/** The rules of a Service with ClusterIP `clusterIP` and `ports`. */
export function iptRulesForService(rules: readonly IptRule[], clusterIP: string, ports: readonly ServicePortView[]): IptServiceRules {
  const chosen = new Set<IptRule>();
  const out: KernelServicePort[] = [];
  const hairpin = new Set<string>();
  const byChain = new Map<string, IptRule[]>();
  for (const r of rules) {
    const k = `${r.table}/${r.chain}`;
    let l = byChain.get(k);
    if (!l) byChain.set(k, l = []);
    l.push(r);
  }
  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const match = `-d ${clusterIP}/32 -p ${proto} -m ${proto} --dport ${sp.port} `;
    const base = { protocol: sp.protocol, port: sp.port, portName: sp.name };
    const entry = byChain.get('nat/KUBE-SERVICES')?.find((r) => r.spec.includes(match) && / -j KUBE-SVC-\S+$/.test(r.spec));
    if (!entry) {
      const reject = byChain.get('filter/KUBE-SERVICES')?.find((r) => r.spec.includes(match) && / -j REJECT\b/.test(r.spec));
      if (reject) chosen.add(reject);
      out.push({ ...base, state: reject ? 'reject' : 'absent', counter: reject?.counter, endpoints: [] });
      continue;
    }
    chosen.add(entry);
    const svcChain = / -j (KUBE-SVC-\S+)$/.exec(entry.spec)![1]!;
    const endpoints: KernelEndpoint[] = [];
    const seps: string[] = [];
    let affinity: number | undefined;
    for (const r of byChain.get(`nat/${svcChain}`) ?? []) {
      chosen.add(r);
      const sep = / -j (KUBE-SEP-\S+)$/.exec(r.spec)?.[1];
      if (sep && !seps.includes(sep)) seps.push(sep);
      const secs = / --seconds (\d+) /.exec(r.spec);
      if (secs) affinity = Number(secs[1]);
    }
    for (const sep of seps) {
      for (const r of byChain.get(`nat/${sep}`) ?? []) {
        chosen.add(r);
        const d = / --to-destination (\d+\.\d+\.\d+\.\d+):(\d+)/.exec(r.spec);
        if (d) endpoints.push({ ip: d[1]!, port: Number(d[2]), counter: r.counter });
        const h = /^-A \S+ -s (\d+\.\d+\.\d+\.\d+)\/32 .* -j KUBE-MARK-MASQ$/.exec(r.spec);
        if (h) hairpin.add(h[1]!);
      }
    }
    out.push({ ...base, state: 'endpoints', counter: entry.counter, endpoints, ...(affinity !== undefined ? { affinityTimeoutSeconds: affinity } : {}) });
  }
  const text: string[] = [];
  for (const table of ['nat', 'filter']) {
    const lines = rules.filter((r) => r.table === table && chosen.has(r)).map((r) => r.text);
    if (lines.length) text.push(`*${table}`, ...lines);
  }
  return { text: text.length ? text.join('\n') + '\n' : '', ports: out, hairpin: [...hairpin] };
}
