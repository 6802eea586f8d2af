/**
 * Picks the entries that carry one Service out of the proxy's nftables table (as parsed from
 * `nft list table ip clusterip`): its `service-ips` / `no-endpoint-services` elements, the chain
 * each points to, the endpoint elements or affinity chains behind it, and its hairpin elements.
 * The result keeps the kernel's own text for display and the counters as numbers. Pure.
 */
import type { NftChain, NftElement, NftSet, NftTable } from './nfttext.js';
import type { Counter, KernelEndpoint, KernelServicePort, ServicePortView } from './types.js';

/** `10m` / `3h` / `1d2h46m40s` / `500ms` (how nft prints a timeout) → seconds. */
export function parseNftDuration(text: string): number | undefined {
  let total = 0;
  let any = false;
  for (const m of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    any = true;
    const n = Number(m[1]);
    total += m[2] === 'd' ? n * 86400 : m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
  }
  return any ? total : undefined;
}

export interface NftServiceRules {
  /** The entries carrying the Service, in nft's own text, grouped as nft prints them. */
  text: string;
  ports: KernelServicePort[];
  hairpin: string[];
}

function block(kind: string, name: string, lines: string[]): string {
  return `${kind} ${name} {\n${lines.map((l) => `\t${l}`).join('\n')}\n}`;
}

function ipPort(text: string): { ip: string; port: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\s*(?:\.|:)\s*(\d+)$/.exec(text.trim());
  return m ? { ip: m[1]!, port: Number(m[2]) } : undefined;
}

function ruleCounter(rule: string): Counter | undefined {
  const c = /counter packets (\d+) bytes (\d+)/.exec(rule);
  return c ? { packets: Number(c[1]), bytes: Number(c[2]) } : undefined;
}

/** The rules of a Service with ClusterIP `clusterIP` and `ports`, from the parsed table. */
export function nftRulesForService(table: NftTable, clusterIP: string, ports: readonly ServicePortView[]): NftServiceRules {
  const sections = new Map<string, { kind: string; lines: string[] }>();
  const add = (kind: string, name: string, line: string): void => {
    const k = `${kind} ${name}`;
    let s = sections.get(k);
    if (!s) sections.set(k, s = { kind, lines: [] });
    if (!s.lines.includes(line)) s.lines.push(line);
  };
  const find = (set: NftSet | undefined, key: string): NftElement | undefined => set?.elements.find((e) => e.key === key);
  const chain = (name: string): NftChain | undefined => table.chains.get(name);
  const out: KernelServicePort[] = [];
  const endpointIPs = new Set<string>();

  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const key = `${clusterIP} . ${proto} . ${sp.port}`;
    const base = { protocol: sp.protocol, port: sp.port, portName: sp.name };
    const svcEl = find(table.sets.get('service-ips'), key);
    const rejectEl = find(table.sets.get('no-endpoint-services'), key);
    if (!svcEl) {
      if (rejectEl) add('map', 'no-endpoint-services', rejectEl.text);
      out.push({ ...base, state: rejectEl ? 'reject' : 'absent', counter: rejectEl?.counter, endpoints: [] });
      continue;
    }
    add('map', 'service-ips', svcEl.text);
    const target = /^goto (\S+)$/.exec(svcEl.value ?? '')?.[1] ?? '';
    const endpoints: KernelEndpoint[] = [];
    let modulus: number | undefined;
    let affinity: number | undefined;
    const mod = /^(tcp|udp|sctp)-endpoints-mod-(\d+)$/.exec(target);
    if (mod) {
      modulus = Number(mod[2]);
      for (const r of chain(target)?.rules ?? []) add('chain', target, r);
      const map = table.sets.get(`service-endpoints-${mod[1]}`);
      for (const e of map?.elements ?? []) {
        if (!e.key.startsWith(`${key} . `)) continue;
        add('map', map!.name, e.text);
        const dest = ipPort(e.value ?? '');
        if (!dest) continue;
        endpoints.push({ ...dest, slot: Number(e.key.slice(key.length + 3)), counter: e.counter });
      }
      endpoints.sort((a, b) => a.slot! - b.slot!);
    } else {
      // ClientIP affinity: the Service port's own chain, one chain and one timeout set per endpoint.
      const svcChain = chain(target);
      for (const r of svcChain?.rules ?? []) add('chain', target, r);
      const m = /numgen random mod (\d+)/.exec(svcChain?.rules.join('\n') ?? '');
      if (m) modulus = Number(m[1]);
      const epChains = new Set<string>();
      for (const r of svcChain?.rules ?? []) for (const g of r.matchAll(/goto (endpoint-\S+?)(?=[\s,}]|$)/g)) epChains.add(g[1]!);
      for (const name of epChains) {
        const c = chain(name);
        for (const r of c?.rules ?? []) {
          add('chain', name, r);
          const d = /dnat to (\d+\.\d+\.\d+\.\d+):(\d+)/.exec(r);
          if (d) endpoints.push({ ip: d[1]!, port: Number(d[2]), counter: ruleCounter(r) });
          const u = /update @(\S+) /.exec(r);
          const set = u ? table.sets.get(u[1]!) : undefined;
          if (set) {
            for (const l of set.declaration) add('set', set.name, l);
            for (const e of set.elements) add('set', set.name, e.text);
            const t = set.declaration.find((l) => l.startsWith('timeout '));
            if (t) affinity = parseNftDuration(t.slice('timeout '.length));
          }
        }
      }
    }
    for (const e of endpoints) endpointIPs.add(e.ip);
    out.push({ ...base, state: 'endpoints', counter: svcEl.counter, endpoints, modulus, ...(affinity !== undefined ? { affinityTimeoutSeconds: affinity } : {}) });
  }
  const hairpin: string[] = [];
  for (const e of table.sets.get('hairpin-endpoints')?.elements ?? []) {
    const [a, b] = e.key.split(' . ');
    if (a && a === b && endpointIPs.has(a)) {
      hairpin.push(a);
      add('set', 'hairpin-endpoints', e.text);
    }
  }
  const text = [...sections].map(([k, s]) => block(s.kind, k.slice(s.kind.length + 1), s.lines)).join('\n');
  return { text: text ? `${text}\n` : '', ports: out, hairpin };
}
