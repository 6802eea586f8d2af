/**
 * Check 7 (Debug Services step 9): on every node, the kernel's rules for the Service agree with its
 * EndpointSlices — a diff of endpoint address:port sets per Service port, read from the node's
 * namespace, not a guess — plus the proxy's last sync time and error. Headless and ExternalName
 * Services have no rules by design.
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding, KernelServicePort, NodeRulesView } from '../types.js';
import { finding, portLabel, sliceEndpoints, usable } from './common.js';

function statusText(n: NodeRulesView): string {
  const p = n.proxy;
  if (!p) return `node ${n.node}: proxy status not published`;
  const err = p.lastError ? `; last error ${p.lastError.at}: ${p.lastError.message}` : '; no sync error';
  return `node ${n.node} (${n.mode}): ${p.syncs} syncs, last ${p.lastSyncAt ?? 'never'} (${p.lastSyncMs ?? '?'} ms)${err}`;
}

/** The proxy's last sync failed and nothing succeeded since. */
function failing(n: NodeRulesView): boolean {
  const p = n.proxy;
  return !!p && p.failuresSinceSync > 0 && !!p.lastError && (!p.lastSyncAt || p.lastError.at >= p.lastSyncAt);
}

export function checkProxy(f: DiagnoseFacts): Finding[] {
  const e = f.explanation;
  const v = e.service;
  if (!v.clusterIP) {
    return [finding('proxy', 'info', 'NoRulesByDesign', v.type === 'ExternalName' ? 'no proxy rules: an ExternalName Service is answered by DNS alone' : 'no proxy rules: a headless Service has no virtual IP; clients connect to the Pod IPs DNS returns')];
  }
  if (f.cluster.proxyMode === 'userspace') {
    return [finding('proxy', 'info', 'UserspaceProxy', 'userspace mode: the proxy process carries every connection itself; the kernel only redirects the Service addresses to its listeners',
      [...e.nodes.map(statusText), 'the endpoints the listeners use are the EndpointSlices\' ready ones; nothing per endpoint is in the kernel to compare'],
      [`ip netns exec ${e.nodes[0]?.netns ?? '<node-netns>'} nft list table ip clusterip-userspace`])];
  }
  const out: Finding[] = [];
  const diffs: string[] = [];
  const evidence: string[] = [];
  for (const n of e.nodes) {
    evidence.push(statusText(n));
    if (n.error) { diffs.push(`node ${n.node}: ${n.error}`); continue; }
    v.ports.forEach((sp, i) => {
      const k: KernelServicePort | undefined = n.ports[i];
      const want = usable(sliceEndpoints(f.slices, sp)).map((x) => `${x.ip}:${x.port}`).sort();
      const label = `node ${n.node} ${portLabel(sp)}`;
      if (!k || k.state === 'absent') { diffs.push(`${label}: no rule at all for ${v.clusterIP}:${sp.port} (want ${want.length ? want.join(', ') : 'a reject rule'})`); return; }
      const have = k.endpoints.map((x) => `${x.ip}:${x.port}`).sort();
      if (k.state === 'reject' && want.length === 0) { evidence.push(`${label}: reject (no endpoints) — as the slices say`); return; }
      const missing = want.filter((x) => !have.includes(x));
      const extra = have.filter((x) => !want.includes(x));
      if (missing.length) diffs.push(`${label}: - in EndpointSlices, not in the kernel: ${missing.join(', ')}`);
      if (extra.length) diffs.push(`${label}: + in the kernel, not in EndpointSlices: ${extra.join(', ')}`);
      if (k.modulus !== undefined && k.modulus !== k.endpoints.length) diffs.push(`${label}: numgen random mod ${k.modulus} but ${k.endpoints.length} endpoint entries: some connections find no endpoint`);
      if (!missing.length && !extra.length) evidence.push(`${label}: ${have.length} endpoint${have.length === 1 ? '' : 's'} ${have.join(', ')} — as the slices say`);
    });
  }
  const broken = e.nodes.filter(failing);
  if (broken.length) {
    out.push(finding('proxy', 'fail', 'ProxySyncFailing', `the proxy's last sync failed on ${broken.map((n) => n.node).join(', ')}: the kernel may hold old rules`,
      broken.map((n) => `${n.node}: ${n.proxy!.lastError!.message} (${n.proxy!.failuresSinceSync} failed since ${n.proxy!.lastSyncAt ?? 'start'})`),
      [`# see the daemon log: /var/lib/clusterip/${f.cluster.name}/daemon.log`]));
  }
  const reread = f.rulesRereadAfterMs !== undefined ? ` (read twice, ${f.rulesRereadAfterMs} ms apart)` : '';
  if (diffs.length) {
    out.push(finding('proxy', 'fail', 'RulesDisagree', `the kernel's rules disagree with the EndpointSlices${reread}`, [...diffs, ...evidence],
      [`ip netns exec ${e.nodes[0]?.netns ?? '<node-netns>'} ${f.cluster.proxyMode === 'nftables' ? 'nft list table ip clusterip' : 'iptables-save -c'}`, `clusterip explain svc/${v.name} -n ${v.namespace} --name ${f.cluster.name}`]));
  } else if (!broken.length) {
    out.push(finding('proxy', 'pass', 'RulesAgree', `the rules on ${e.nodes.length} node${e.nodes.length === 1 ? '' : 's'} agree with the EndpointSlices`, evidence));
  }
  return out;
}
