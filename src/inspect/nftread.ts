/**
 * Reads only the nftables entries that carry one Service, from a node's namespace. `nft list table`
 * prints every element of every map: at 1k Services × 10 endpoints that is ~1 MB of text and most
 * of a second. Instead one `nft -f -` batch asks for the entries by key (`get element`) and by name
 * (`list chain`, `list set`) — the ones the EndpointSlices say should exist, named with the proxy's
 * own naming functions — and a second batch fetches whatever the kernel's entries point to that the
 * first did not ask for (an extra slot, an endpoint chain), so a kernel that differs from the slices
 * is still read as it is. `nft -f` stops at the first command that fails (a missing element) and
 * names its line, so a batch is run on from the line after it; the one entry the slices say is
 * absent (the `no-endpoint-services` element of a Service with endpoints, or the `service-ips` one
 * of a Service without) is asked last, so a kernel that agrees with the slices costs one nft run.
 * (Each nft run first loads the whole ruleset — ~0.1 s at 10k endpoint elements — and `nft -i`
 * reloads it for every command, so batches beat both per-entry runs and the interactive mode.)
 */
import { nftAffinitySet, nftEndpointChain, nftServiceChain } from '../proxy/chainnames.js';
import { NFT_TABLE, endpointsMap, modChain } from '../proxy/nftables/proxier.js';
import type { SliceEndpoint } from './endpoints.js';
import { inNetns } from './exec.js';
import { parseNftTable, type NftTable } from './nfttext.js';
import type { ServicePortView, ServiceView } from './types.js';

const T = `ip ${NFT_TABLE}`;

/** The commands for what the slices say the kernel should hold for `v` (`expected[i]`: usable endpoints of port i). */
export function expectedCommands(v: ServiceView, expected: readonly SliceEndpoint[][]): string[] {
  const present: string[] = [];
  const absent: string[] = [];
  if (!v.clusterIP) return present;
  v.ports.forEach((sp, i) => {
    const proto = sp.protocol.toLowerCase();
    const key = `${v.clusterIP} . ${proto} . ${sp.port}`;
    const eps = expected[i] ?? [];
    const svc = `get element ${T} service-ips { ${key} }`;
    const reject = `get element ${T} no-endpoint-services { ${key} }`;
    if (eps.length === 0) { present.push(reject); absent.push(svc); return; }
    present.push(svc);
    absent.push(reject);
    if (v.sessionAffinity === 'ClientIP') {
      const port = { namespace: v.namespace, name: v.name, portName: sp.name, protocol: sp.protocol, clusterIP: v.clusterIP!, port: sp.port };
      present.push(`list chain ${T} ${nftServiceChain(port)}`);
      for (const ep of eps) present.push(`list chain ${T} ${nftEndpointChain(port, ep)}`, `list set ${T} ${nftAffinitySet(port, ep)}`);
    } else {
      present.push(`list chain ${T} ${modChain(`${proto}/${eps.length}`)}`);
      eps.forEach((_, slot) => present.push(`get element ${T} ${endpointsMap(proto)} { ${key} . ${slot} }`));
    }
    for (const ep of eps) present.push(`get element ${T} hairpin-endpoints { ${ep.ip} . ${ep.ip} }`);
  });
  return [...new Set([...present, ...absent])];
}

/** The commands for entries the parsed `table` points to but does not hold yet. */
export function referencedCommands(table: NftTable, clusterIP: string, ports: readonly ServicePortView[]): string[] {
  const cmds: string[] = [];
  const hairpin = new Set<string>();
  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const key = `${clusterIP} . ${proto} . ${sp.port}`;
    const target = /^goto (\S+)$/.exec(table.sets.get('service-ips')?.elements.find((e) => e.key === key)?.value ?? '')?.[1];
    if (!target) continue;
    if (!table.chains.has(target)) cmds.push(`list chain ${T} ${target}`);
    const mod = /^(tcp|udp|sctp)-endpoints-mod-(\d+)$/.exec(target);
    if (mod) {
      const have = new Set(table.sets.get(endpointsMap(mod[1]!))?.elements.map((e) => e.key));
      for (let slot = 0; slot < Number(mod[2]); slot++) if (!have.has(`${key} . ${slot}`)) cmds.push(`get element ${T} ${endpointsMap(mod[1]!)} { ${key} . ${slot} }`);
      for (const e of table.sets.get(endpointsMap(mod[1]!))?.elements ?? []) if (e.key.startsWith(`${key} . `)) hairpin.add(/^(\S+)/.exec(e.value ?? '')?.[1] ?? '');
      continue;
    }
    for (const r of table.chains.get(target)?.rules ?? []) {
      for (const g of r.matchAll(/goto (endpoint-\S+?)(?=[\s,}]|$)/g)) {
        const chain = table.chains.get(g[1]!);
        if (!chain) { cmds.push(`list chain ${T} ${g[1]}`); continue; }
        for (const cr of chain.rules) {
          const set = /update @(\S+) /.exec(cr)?.[1];
          if (set && !table.sets.has(set)) cmds.push(`list set ${T} ${set}`);
          const d = /dnat to (\d+\.\d+\.\d+\.\d+):/.exec(cr)?.[1];
          if (d) hairpin.add(d);
        }
      }
    }
  }
  const haveHairpin = new Set(table.sets.get('hairpin-endpoints')?.elements.map((e) => e.key));
  for (const ip of hairpin) if (ip && !haveHairpin.has(`${ip} . ${ip}`)) cmds.push(`get element ${T} hairpin-endpoints { ${ip} . ${ip} }`);
  return [...new Set(cmds)];
}

/**
 * Runs `cmds` with `nft -f -`, going on after each failing command (nft names its line on stderr).
 * A missing element fails when nft runs it, after the commands before it printed their answers; a
 * missing chain or set fails while nft checks the batch, before anything runs (nothing printed):
 * then the batch is run again without that command. Resolves with everything printed, or an error
 * when nft cannot run.
 */
async function nftBatch(netns: string, cmds: readonly string[], signal?: AbortSignal): Promise<{ text: string } | { error: string }> {
  let text = '';
  let rest = [...cmds];
  while (rest.length) {
    const r = await inNetns(netns, ['nft', '-f', '-'], { input: rest.join('\n') + '\n', signal, timeoutMs: 10_000 });
    text += r.stdout;
    if (r.code === 0) break;
    const line = Number(/^\/dev\/stdin:(\d+):/m.exec(r.stderr)?.[1]);
    if (!Number.isInteger(line) || line < 1 || line > rest.length) return { error: `nft -f failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}` };
    rest = r.stdout ? rest.slice(line) : [...rest.slice(0, line - 1), ...rest.slice(line)];
  }
  return { text };
}

/**
 * Reads the Service's entries from `netns`: the expected ones, then (at most twice) what they point
 * to. Resolves with the text nft printed (one block per entry, as `nft list` prints it), or an error
 * when the proxy's table is not there at all.
 */
export async function readNftService(netns: string, v: ServiceView, expected: readonly SliceEndpoint[][], signal?: AbortSignal): Promise<{ text: string } | { error: string }> {
  if (!v.clusterIP) return { text: '' };
  const asked = new Set<string>();
  let text = '';
  let cmds = expectedCommands(v, expected);
  for (let round = 0; round < 3 && cmds.length; round++) {
    for (const c of cmds) asked.add(c);
    const r = await nftBatch(netns, cmds, signal);
    if ('error' in r) return r;
    text += r.text;
    cmds = referencedCommands(parseNftTable(text), v.clusterIP, v.ports).filter((c) => !asked.has(c));
  }
  if (!text) {
    const t = await inNetns(netns, ['nft', 'list', 'tables'], { signal, timeoutMs: 5000 });
    if (t.code !== 0) return { error: `nft list tables failed: ${t.stderr.trim()}` };
    if (!t.stdout.includes(`table ${T}`)) return { error: `the proxy has written no rules here (no table ${T})` };
  }
  return { text };
}
