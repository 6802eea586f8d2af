/**
 * The DNS names a Service has (Kubernetes DNS specification 1.1.0) and the question each one turns
 * into: a Pod's resolver (resolv.conf `search <ns>.svc.<zone> svc.<zone> <zone>`, `ndots:5`)
 * completes a short name with its own namespace, `name.ns` with `svc.<zone>`. Pure: the answers
 * come from the cluster DNS server, asked by the gatherer.
 */
import type { DnsNameView, EndpointView, ServiceView } from './types.js';

/** A name to ask about (a DnsNameView without its answer yet). */
export type DnsQuestion = Omit<DnsNameView, 'rcode' | 'answers' | 'error'>;

/** `10.244.0.5` → `10-244-0-5` (the Pod A record label). */
export function dashedIP(ip: string): string {
  return ip.replace(/\./g, '-');
}

/** The names of a Service and, for a headless one, of its endpoints. */
export function serviceDnsQuestions(svc: ServiceView, domain: string, endpoints: readonly EndpointView[] = []): DnsQuestion[] {
  const fqdn = `${svc.name}.${svc.namespace}.svc.${domain}`;
  const type = svc.type === 'ExternalName' ? 'CNAME' : 'A';
  const q: DnsQuestion[] = [
    { name: svc.name, form: 'short', usableFrom: `Pods in namespace ${svc.namespace} (search ${svc.namespace}.svc.${domain})`, query: fqdn, type },
    { name: `${svc.name}.${svc.namespace}`, form: 'namespaced', usableFrom: `Pods in any namespace (search svc.${domain})`, query: fqdn, type },
    { name: fqdn, form: 'fqdn', usableFrom: 'anywhere in the cluster', query: fqdn, type },
  ];
  if (svc.type === 'ExternalName') return q;
  // SRV records exist for named ports only.
  for (const p of svc.ports) {
    if (!p.name) continue;
    const srv = `_${p.name}._${p.protocol.toLowerCase()}.${fqdn}`;
    q.push({ name: srv, form: 'srv', usableFrom: 'anywhere in the cluster', query: srv, type: 'SRV' });
  }
  if (svc.headless) {
    // A headless Service publishes each ready endpoint: by hostname (StatefulSet Pods) or by dashed IP.
    const seen = new Set<string>();
    for (const ep of endpoints) {
      if (!ep.ready && !svc.publishNotReadyAddresses) continue;
      const label = ep.hostname ?? (ep.addresses[0] ? dashedIP(ep.addresses[0]) : undefined);
      if (!label || seen.has(label)) continue;
      seen.add(label);
      const name = `${label}.${fqdn}`;
      q.push({ name, form: 'endpoint', usableFrom: `anywhere in the cluster${ep.pod ? ` (Pod ${ep.pod})` : ''}`, query: name, type: 'A' });
    }
  }
  return q;
}

/** A Pod's own A record (`10-244-0-5.<ns>.pod.<zone>`), and its hostname.subdomain record when set. */
export function podDnsQuestions(namespace: string, ip: string | undefined, domain: string, hostname?: string, subdomain?: string): DnsQuestion[] {
  const q: DnsQuestion[] = [];
  if (ip) {
    const name = `${dashedIP(ip)}.${namespace}.pod.${domain}`;
    q.push({ name, form: 'pod', usableFrom: 'anywhere in the cluster', query: name, type: 'A' });
  }
  if (hostname && subdomain) {
    const name = `${hostname}.${subdomain}.${namespace}.svc.${domain}`;
    q.push({ name, form: 'endpoint', usableFrom: `anywhere in the cluster (headless Service ${subdomain})`, query: name, type: 'A' });
  }
  return q;
}
