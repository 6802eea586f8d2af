/**
 * From a kernel event to a named flow record (pure, given the name tables): which Pod asked for
 * which Service, which Pod the kernel sent it to, whether ClientIP affinity kept it on the same
 * Pod, and — for a packet the kernel refused — why the Service refused it.
 */
import type { FlowRecord } from './flowsmodel.js';
import type { ConntrackEvent, TracedRefusal } from './flowsparse.js';
import { parseGroupChain } from '../netpol/policynames.js';
import type { NameTables } from './flowsnames.js';

/** Remembers each (client, Service) pair's last backend, for the affinity verdict. Bounded. */
export class AffinityMemory {
  private readonly last = new Map<string, string>();
  constructor(private readonly max = 50_000) {}

  /** Records `backend` for the pair; returns the previous one. */
  swap(client: string, service: string, backend: string): string | undefined {
    const k = `${client}|${service}`;
    const prev = this.last.get(k);
    this.last.delete(k);
    this.last.set(k, backend);
    if (this.last.size > this.max) this.last.delete(this.last.keys().next().value!);
    return prev;
  }
}

function servicePart(names: NameTables, ip: string, port: number, proto: string): FlowRecord['service'] {
  const svc = names.serviceAt(ip);
  const p = svc?.ports.find((x) => x.port === port && x.protocol === proto);
  return { ip, port, ...(svc ? { name: svc.key } : {}), ...(p?.name ? { portName: p.name } : {}) };
}

/** A conntrack NEW / DESTROY event (or a listing line) as a flow record. */
/** The client's name; a Service address as source means the node itself (it routes the Service CIDR locally). */
function clientNameOf(names: NameTables, node: string, ip: string): string | undefined {
  return names.nameOf(ip) ?? (names.serviceAt(ip) ? `node ${node}` : undefined);
}

export function flowFromConntrack(node: string, ev: ConntrackEvent, at: number, names: NameTables, affinity?: AffinityMemory): FlowRecord {
  const clientName = clientNameOf(names, node, ev.orig.src);
  const backendPod = names.podOf(ev.reply.src);
  const translated = ev.reply.src !== ev.orig.dst || ev.reply.sport !== ev.orig.dport;
  const rec: FlowRecord = {
    id: `${node}/${ev.id ?? `${ev.orig.src}:${ev.orig.sport}>${ev.orig.dst}:${ev.orig.dport}`}`,
    node, event: ev.type === 'DESTROY' ? 'destroy' : 'new', at, proto: ev.proto,
    client: { ip: ev.orig.src, port: ev.orig.sport, ...(clientName ? { name: clientName } : {}) },
    service: servicePart(names, ev.orig.dst, ev.orig.dport, ev.proto),
    ...(translated ? { backend: { ip: ev.reply.src, port: ev.reply.sport, ...(backendPod ? { pod: backendPod } : {}) } } : {}),
    ...(ev.state ? { state: ev.state } : {}),
    verdict: 'forwarded',
  };
  if (ev.orig.bytes !== undefined) rec.sent = { bytes: ev.orig.bytes, packets: ev.orig.packets ?? 0 };
  if (ev.reply.bytes !== undefined) rec.received = { bytes: ev.reply.bytes, packets: ev.reply.packets ?? 0 };
  const svc = names.serviceAt(ev.orig.dst);
  if (rec.event === 'new' && svc?.affinitySeconds !== undefined && rec.backend && affinity) {
    const prev = affinity.swap(ev.orig.src, `${svc.key}:${ev.orig.dport}`, `${rec.backend.ip}:${rec.backend.port}`);
    rec.affinity = { timeoutSeconds: svc.affinitySeconds, first: prev === undefined, sticky: prev === `${rec.backend.ip}:${rec.backend.port}` };
  }
  return rec;
}

/**
 * Why a Service address refused a packet, from what the cluster knows about that address: the proxy
 * refuses only three things (kube-proxy's rules): an address no Service has, a port the Service does
 * not have, and a port of a Service without endpoints.
 */
export function refusalReason(names: NameTables, ip: string, port: number, proto: string): string {
  const svc = names.serviceAt(ip);
  if (!svc) return 'no Service has this address';
  if (!svc.ports.some((p) => p.port === port && p.protocol === proto)) return `no port ${port}/${proto} on this Service`;
  return 'no endpoints';
}

/** A refused packet (nft trace ending in drop/reject) as a flow record. */
export function flowFromRefusal(node: string, r: TracedRefusal, at: number, seq: number, names: NameTables): FlowRecord {
  const clientName = clientNameOf(names, node, r.src);
  // A NetworkPolicy drop (src/netpol): the packet is already DNATed to the Pod, and the drop rule's
  // comment names the policies isolating it (`NetworkPolicy ingress: default/deny-all`).
  // The chain's name carries the policies too (a rule added after `nft monitor trace` started is
  // printed as `unknown rule handle N`, without its comment).
  const group = r.chain.startsWith('inet clusterip-policy ') ? parseGroupChain(r.chain.slice('inet clusterip-policy '.length)) : undefined;
  const policy = /comment "(NetworkPolicy [^"]*)"/.exec(r.rule)?.[1]
    ?? (group ? `NetworkPolicy ${group.dir}: ${group.keys.join(' ')}${group.clipped ? '…' : ''}` : undefined);
  if (policy) {
    const pod = names.nameOf(r.dst);
    return {
      id: `${node}/r${seq}`, node, event: 'refused', at, proto: r.proto,
      client: { ip: r.src, port: r.sport, ...(clientName ? { name: clientName } : {}) },
      backend: { ip: r.dst, port: r.dport, ...(pod ? { pod } : {}) },
      verdict: r.verdict,
      reason: `dropped by ${policy}`,
      kernelRule: `${r.chain}: ${r.rule}`,
    };
  }
  return {
    id: `${node}/r${seq}`, node, event: 'refused', at, proto: r.proto,
    client: { ip: r.src, port: r.sport, ...(clientName ? { name: clientName } : {}) },
    service: servicePart(names, r.dst, r.dport, r.proto),
    verdict: r.verdict,
    reason: refusalReason(names, r.dst, r.dport, r.proto),
    kernelRule: `${r.chain}: ${r.rule}`,
  };
}
