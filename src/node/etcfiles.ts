/**
 * The per-Pod /etc/resolv.conf and /etc/hosts, as the kubelet writes them. Pure: the sandbox
 * bind-mounts the results over /etc in the Pod's own mount namespace.
 */
import * as fs from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** Cluster DNS settings the agent was started with. */
export interface DnsSettings {
  clusterDNS: string;
  clusterDomain: string;
  /** The host's resolv.conf text (for dnsPolicy Default). */
  hostResolvConf?: string;
}

/** resolv.conf for the Pod per spec.dnsPolicy (ClusterFirst default, Default, None + dnsConfig). */
export function resolvConf(pod: Pod, dns: DnsSettings): string {
  const ns = pod.metadata?.namespace ?? 'default';
  let policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  // ClusterFirstWithHostNet on a non-hostNetwork Pod is ClusterFirst; hostNetwork is not supported.
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  let nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === 'ClusterFirst') {
    nameservers = [dns.clusterDNS];
    searches = [`${ns}.svc.${dns.clusterDomain}`, `svc.${dns.clusterDomain}`, dns.clusterDomain];
    options = ['ndots:5'];
  } else if (policy === 'Default') {
    const host = dns.hostResolvConf ?? readHostResolvConf();
    for (const line of host.split('\n')) {
      const [k, ...v] = line.trim().split(/\s+/);
      if (k === 'nameserver' && v[0]) nameservers.push(v[0]);
      else if (k === 'search') searches = v;
      else if (k === 'options') options.push(...v);
    }
  }
  const cfg = pod.spec?.dnsConfig;
  if (cfg) {
    for (const n of cfg.nameservers ?? []) if (!nameservers.includes(n)) nameservers.push(n);
    for (const s of cfg.searches ?? []) if (!searches.includes(s)) searches.push(s);
    for (const o of cfg.options ?? []) {
      const opt = o.value !== undefined ? `${o.name}:${o.value}` : `${o.name}`;
      options = options.filter((x) => x.split(':')[0] !== o.name);
      options.push(opt);
    }
  }
  const out: string[] = [];
  if (searches.length) out.push(`search ${searches.join(' ')}`);
  for (const n of nameservers.slice(0, 3)) out.push(`nameserver ${n}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

function readHostResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** The kubelet-managed /etc/hosts: loopback entries, the Pod's IP and hostname, hostAliases. */
export function hostsFile(pod: Pod, podIP: string, clusterDomain: string): string {
  const hostname = pod.spec?.hostname ?? pod.metadata?.name ?? 'pod';
  const ns = pod.metadata?.namespace ?? 'default';
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (pod.spec?.subdomain) lines.push(`${podIP}\t${hostname}.${pod.spec.subdomain}.${ns}.svc.${clusterDomain}\t${hostname}`);
  else lines.push(`${podIP}\t${hostname}`);
  for (const a of pod.spec?.hostAliases ?? []) {
    if (a.ip && a.hostnames?.length) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}
