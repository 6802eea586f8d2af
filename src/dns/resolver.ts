/**
 * Answers one question from the record index: the DNS semantics (NOERROR with answers, NODATA,
 * NXDOMAIN with the zone's SOA in the authority section, SERVFAIL before sync, out-of-zone names
 * handed back to the caller for forwarding or REFUSED). Pure apart from reading the index.
 */
import type { Answer } from 'dns-packet';
import type { Rec, RecordIndex } from './records.js';

export type Outcome =
  | { kind: 'answer'; rcode: 'NOERROR' | 'NXDOMAIN'; answers: Answer[]; authority: Answer[] }
  | { kind: 'servfail' }
  /** Not ours: forward when an upstream is configured, else REFUSED. */
  | { kind: 'outside' };

export interface ResolverOptions {
  ttl: number;
}

const POD_NAME = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.[a-z0-9-]+\.pod\.$/;

/** The SOA record of the zone (kube-dns / CoreDNS shape). */
export function soa(zone: string, ttl: number, serial: number): Answer {
  return {
    name: zone, type: 'SOA', ttl, class: 'IN',
    data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
  };
}

function toAnswer(r: Rec, ttl: number, qname: string): Answer {
  // Answer with the name as asked (case preserved, as resolvers using 0x20 expect).
  const name = qname.toLowerCase() === r.name ? qname : r.name;
  if (r.type === 'SRV') return { name, type: 'SRV', ttl, class: 'IN', data: { ...r.data } };
  return { name, type: r.type, ttl, class: 'IN', data: r.data } as Answer;
}

/** Answers `qname`/`qtype` (qname without trailing dot). */
export function resolve(index: RecordIndex, synced: boolean, qname: string, qtype: string, opts: ResolverOptions): Outcome {
  const name = qname.toLowerCase().replace(/\.$/, '');
  const zone = index.zone;
  const inZone = name === zone || name.endsWith(`.${zone}`);
  const isReverse = name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');
  if (!inZone && !isReverse) return { kind: 'outside' };
  if (!synced) return { kind: 'servfail' };
  const ttl = opts.ttl;

  if (isReverse) {
    const ptrs = index.lookup(name)?.filter((r) => r.type === 'PTR') ?? [];
    if (ptrs.length === 0) return { kind: 'outside' };
    if (qtype !== 'PTR' && qtype !== 'ANY') return { kind: 'answer', rcode: 'NOERROR', answers: [], authority: [] };
    return { kind: 'answer', rcode: 'NOERROR', answers: ptrs.map((r) => toAnswer(r, ttl, qname)), authority: [] };
  }

  const neg = (rcode: 'NOERROR' | 'NXDOMAIN'): Outcome =>
    ({ kind: 'answer', rcode, answers: [], authority: [soa(zone, ttl, index.generation)] });

  // Pod records, "insecure" mode as kubeadm's CoreDNS serves them: a-b-c-d.<ns>.pod.<zone>.
  const rel = name.slice(0, name.length - zone.length);
  const pod = POD_NAME.exec(rel);
  if (pod) {
    const octets = pod.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return neg('NXDOMAIN');
    if (qtype !== 'A' && qtype !== 'ANY') return neg('NOERROR');
    return { kind: 'answer', rcode: 'NOERROR', authority: [], answers: [{ name: qname, type: 'A', ttl, class: 'IN', data: octets.join('.') }] };
  }

  const recs = index.lookup(name);
  if (recs && recs.length > 0) {
    const cname = recs.find((r) => r.type === 'CNAME');
    if (cname && qtype !== 'CNAME') return { kind: 'answer', rcode: 'NOERROR', answers: [toAnswer(cname, ttl, qname)], authority: [] };
    const match = qtype === 'ANY' ? recs : recs.filter((r) => r.type === qtype);
    if (match.length > 0) return { kind: 'answer', rcode: 'NOERROR', answers: match.map((r) => toAnswer(r, ttl, qname)), authority: [] };
    if (qtype === 'SOA' && name === zone) return { kind: 'answer', rcode: 'NOERROR', answers: [soa(zone, ttl, index.generation)], authority: [] };
    return neg('NOERROR');
  }
  if (name === zone) {
    if (qtype === 'SOA') return { kind: 'answer', rcode: 'NOERROR', answers: [soa(zone, ttl, index.generation)], authority: [] };
    if (qtype === 'NS') return { kind: 'answer', rcode: 'NOERROR', answers: [{ name: qname, type: 'NS', ttl, class: 'IN', data: `ns.dns.${zone}` }], authority: [] };
    return neg('NOERROR');
  }
  return neg(index.exists(name) ? 'NOERROR' : 'NXDOMAIN');
}
