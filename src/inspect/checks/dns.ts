/**
 * Check 5 (Debug Services step 4, seed 002): the Service's names resolve — asked by the probe Pod's
 * own resolver (getaddrinfo with its resolv.conf, as the Pod's programs ask), so the search path is
 * the real one. From another namespace (`--from`) the short name does not resolve there, or worse,
 * resolves to another Service of that namespace. Also: the probe's resolv.conf (nameserver, search
 * path, ndots), and the cluster DNS Pods being Ready. Headless: the A records are the ready Pod
 * IPs; ExternalName: the CNAME.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { DiagnoseFacts } from '../diagnosefacts.js';
import { isPodReady, whyNotReady } from '../pods.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

/** nameserver / search / options of a resolv.conf. */
export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; ndots?: number } {
  const r: { nameservers: string[]; search: string[]; ndots?: number } = { nameservers: [], search: [] };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) r.nameservers.push(f[1]);
    if (f[0] === 'search') r.search = f.slice(1);
    if (f[0] === 'options') for (const o of f.slice(1)) if (o.startsWith('ndots:')) r.ndots = Number(o.slice(6));
  }
  return r;
}

/** getaddrinfo's error codes in a learner's words. */
function lookupError(code: string | undefined): string {
  switch (code) {
    case 'ENOTFOUND': return 'not found (NXDOMAIN for every search domain)';
    case 'EAI_AGAIN': return 'no answer (EAI_AGAIN: every search domain was NXDOMAIN and the bare name was refused)';
    case 'ETIMEOUT': return 'timed out (the DNS server did not answer)';
    default: return code ?? 'no address';
  }
}

function dnsPodFinding(f: DiagnoseFacts): Finding | undefined {
  const pods: Pod[] = f.dnsPods;
  if (pods.length === 0) {
    return finding('dns', 'fail', 'DnsPodMissing', 'no cluster DNS Pod (kube-system, k8s-app=kube-dns): names cannot resolve', [],
      ['kubectl get deployment coredns -n kube-system', 'kubectl get pods -n kube-system -l k8s-app=kube-dns']);
  }
  if (pods.some((p) => isPodReady(p))) return undefined;
  return finding('dns', 'fail', 'DnsPodNotReady', 'the cluster DNS Pod is not Ready: names cannot resolve',
    pods.map((p) => `${p.metadata!.name}: ${whyNotReady(p) ?? 'not ready'}`),
    [`kubectl describe pod -n kube-system ${pods[0]!.metadata!.name}`, `kubectl logs -n kube-system ${pods[0]!.metadata!.name}`]);
}

export function checkDns(f: DiagnoseFacts): Finding[] {
  const e = f.explanation;
  const v = e.service;
  const out: Finding[] = [];
  const dnsPod = dnsPodFinding(f);
  if (dnsPod) out.push(dnsPod);
  const domain = f.cluster.clusterDomain;
  const fqdn = `${v.name}.${v.namespace}.svc.${domain}`;

  // The probe's resolv.conf: what every Pod of the namespace gets (dnsPolicy ClusterFirst).
  if (f.resolvConf !== undefined) {
    const rc = parseResolvConf(f.resolvConf);
    const want = [`${f.from}.svc.${domain}`, `svc.${domain}`, domain];
    const ok = rc.nameservers[0] === f.cluster.dnsServiceIP && want.every((d, i) => rc.search[i] === d);
    const text = `probe Pod resolv.conf: nameserver ${rc.nameservers.join(' ') || '-'}; search ${rc.search.join(' ') || '-'}; ndots:${rc.ndots ?? 1}`;
    if (ok) out.push(finding('dns', 'pass', 'ResolvConf', `a Pod in namespace ${f.from} asks ${f.cluster.dnsServiceIP} and completes names with ${want[0]}, ${want[1]}, ${want[2]}`, [text]));
    else out.push(finding('dns', 'warn', 'ResolvConfUnexpected', `a Pod in namespace ${f.from} does not get the cluster's resolver settings`, [text, `expected: nameserver ${f.cluster.dnsServiceIP}; search ${want.join(' ')}; ndots:5`], [`kubectl get pod -n ${f.from} -o jsonpath='{.items[*].spec.dnsPolicy}'`]));
  }

  if (v.type === 'ExternalName') {
    const c = f.cname;
    if (!c) out.push(finding('dns', 'skip', 'NotProbed', 'the CNAME was not asked (no probe)'));
    else if (c.rcode === 'NOERROR' && c.answers.some((a) => a.replace(/\.$/, '') === v.externalName?.replace(/\.$/, ''))) {
      out.push(finding('dns', 'pass', 'ExternalNameCname', `${fqdn} is a CNAME for ${v.externalName}`, [`${fqdn} CNAME → ${c.answers.join(', ')}`,
        `whether ${v.externalName} itself resolves depends on the cluster's upstream resolver (clusterip up --dns-upstream)`]));
    } else {
      out.push(finding('dns', 'fail', 'ExternalNameNoCname', `${fqdn} does not answer with a CNAME for ${v.externalName}`, [`answer: ${c.rcode} ${c.answers.join(', ')}${c.error ? ` (${c.error})` : ''}`], [`kubectl get svc ${v.name} -n ${v.namespace} -o yaml`]));
    }
    return out;
  }

  if (f.lookups.length === 0) {
    if (f.probe.placed === false) out.push(finding('dns', 'skip', 'NotProbed', `names not looked up from a Pod: ${f.probe.reason}`));
    return out;
  }
  // What the names must resolve to: the ClusterIP, or for a headless Service the ready Pod IPs.
  const readyIPs = new Set(e.slices.flatMap((s) => s.endpoints.filter((x) => x.ready || v.publishNotReadyAddresses).flatMap((x) => x.addresses)));
  const expected = v.clusterIP ? new Set([v.clusterIP]) : readyIPs;
  const want = v.clusterIP ? v.clusterIP : `the ready Pod IPs (${[...readyIPs].join(', ') || 'none'})`;
  const lines: string[] = [];
  const failures: string[] = [];
  let shortElsewhere: { addresses?: string[]; error?: string } | undefined;
  for (const l of f.lookups) {
    const got = l.answer.addresses ?? [];
    const text = `${l.name} → ${got.length ? got.join(', ') : lookupError(l.answer.error)} (${l.answer.ms} ms)`;
    lines.push(text);
    if (l.form === 'short' && f.from !== v.namespace) { shortElsewhere = l.answer; continue; }
    const right = got.length > 0 && got.every((a) => expected.has(a)) && (v.clusterIP ? true : got.length === expected.size);
    if (!right) failures.push(text);
  }
  if (failures.length) {
    const headlessEmpty = !v.clusterIP && expected.size === 0;
    out.push(finding('dns', headlessEmpty ? 'warn' : 'fail', headlessEmpty ? 'HeadlessNoReadyEndpoints' : 'NameDoesNotResolve',
      headlessEmpty ? `headless Service ${v.name} has no ready endpoints, so its name has no addresses` : `${failures.length === 1 ? 'a name does' : 'names do'} not resolve to ${want} from namespace ${f.from}`,
      [...lines, ...(dnsPod ? ['(the DNS Pod is not Ready, see above)'] : [])],
      headlessEmpty ? [] : [`kubectl run -n ${f.from} dnscheck --rm -i --image=busybox --restart=Never -- nslookup ${fqdn}`, 'kubectl get pods -n kube-system -l k8s-app=kube-dns']));
  } else {
    out.push(finding('dns', 'pass', 'NamesResolve', `${f.from === v.namespace ? `${v.name}, ` : ''}${v.name}.${v.namespace} and the FQDN resolve to ${want} from namespace ${f.from}`, lines));
  }
  if (shortElsewhere) {
    const got = shortElsewhere.addresses ?? [];
    if (got.length && !got.every((a) => expected.has(a))) {
      out.push(finding('dns', 'fail', 'ShortNameIsAnotherService', `from namespace ${f.from}, "${v.name}" resolves to ${got.join(', ')} — another Service named ${v.name} in ${f.from}, not ${v.namespace}/${v.name}`,
        [`the search path tries ${f.from}.svc.${domain} first`], [`# call it ${v.name}.${v.namespace} (or ${fqdn}) from namespace ${f.from}`]));
    } else if (got.length === 0) {
      out.push(finding('dns', 'warn', 'ShortNameFromOtherNamespace', `from namespace ${f.from}, the short name "${v.name}" does not resolve (${lookupError(shortElsewhere.error)}): it is completed with ${f.from}.svc.${domain}, where no such Service lives`,
        [`${v.name}.${v.namespace} and ${fqdn} work from any namespace`], [`# from namespace ${f.from}, call http://${v.name}.${v.namespace}${v.ports[0] && v.ports[0].port !== 80 ? `:${v.ports[0].port}` : ''} (or ${fqdn})`]));
    }
  }
  return out;
}
