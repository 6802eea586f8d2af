/**
 * Check (Debug Services step 3, "Is any NetworkPolicy blocking the traffic?"): judges the probe
 * Pod's connections to the Service's endpoints against the cluster's NetworkPolicies (src/netpol
 * evaluate.ts: which policies isolate each end, which allow), beside what the probe saw and the
 * kernel's drop counters for the isolating policies. Names the policy, and the command to read it.
 * Policy applies after the Service DNAT: it is the endpoint Pod and its targetPort that are judged.
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { judge, type Party } from '../../netpol/evaluate.js';
import { namespaceInfo, podInfo, policyInfo } from '../../netpol/model.js';
import { finding } from './common.js';
import { PROBE_LABEL } from '../probepod.js';

export function checkNetworkPolicy(f: DiagnoseFacts): Finding[] {
  const np = f.networkPolicy;
  const v = f.explanation.service;
  if (!np || v.type === 'ExternalName') return [];
  if (np.policies.length === 0) return [finding('network-policy', 'pass', 'NoNetworkPolicy', 'no NetworkPolicy in the cluster: nothing isolates the Pods')];
  const policies = np.policies.map(policyInfo);
  const namespaces = new Map(np.namespaces.map((n) => [n.metadata?.name ?? '', namespaceInfo(n)]));
  const ns = (n: string) => namespaces.get(n);
  // The probe as the API has it (also when its helper failed); else a Pod of the namespace with the
  // probe's labels and no known address (ipBlocks are then given the benefit of the doubt).
  const probe: Party & { pod: NonNullable<Party['pod']> } = np.probePod?.status?.podIP
    ? { ip: np.probePod.status.podIP, pod: podInfo(np.probePod) }
    : f.probe.placed
      ? { ip: f.probe.ip, pod: { ...podInfo({ metadata: { name: f.probe.pod, namespace: f.probe.namespace, labels: { [PROBE_LABEL]: 'true' } } }), ip: f.probe.ip } }
      : { pod: podInfo({ metadata: { name: 'probe', namespace: f.from, labels: { [PROBE_LABEL]: 'true' } } }) };
  const byName = new Map(f.pods.map((p) => [p.metadata?.name ?? '', p]));
  const blockedIn = new Map<string, string[]>();
  const blockedOut = new Map<string, string[]>();
  const allowed = new Set<string>();
  const evidence: string[] = [];
  // The endpoints the probe connected to, or (no probe) every endpoint Pod on the Service's target ports.
  const targets = f.endpointConnects.length > 0
    ? f.endpointConnects.map((c) => ({ ip: c.ip, port: c.port, pod: c.pod, answer: c.answer }))
    : f.explanation.pods.flatMap((p) => (p.ip ? p.ports.filter((x) => x.protocol === 'TCP' && x.resolved !== undefined).map((x) => ({ ip: p.ip!, port: x.resolved!, pod: p.name, answer: undefined })) : []));
  for (const t of targets) {
    const podObj = t.pod ? byName.get(t.pod) : undefined;
    const to: Party = { ip: t.ip, ...(podObj ? { pod: podInfo(podObj) } : {}) };
    const j = judge(policies, ns, probe, to, 'TCP', t.port);
    const where = `${t.ip}:${t.port}${t.pod ? ` (pod ${t.pod})` : ''}`;
    const seen = t.answer ? (t.answer.ok ? 'connected' : t.answer.error === 'ETIMEDOUT' ? 'no answer (dropped)' : t.answer.error) : undefined;
    if (!j.ingress.allowed) {
      blockedIn.set(where, j.ingress.isolatedBy);
      evidence.push(`${where}: isolated for ingress by ${j.ingress.isolatedBy.join(', ')}; none allows TCP ${t.port} from ${probe.pod.key}${seen ? `; the probe saw: ${seen}` : ''}`);
    }
    if (!j.egress.allowed) {
      blockedOut.set(where, j.egress.isolatedBy);
      evidence.push(`${where}: the probe's egress is isolated by ${j.egress.isolatedBy.join(', ')}; none allows TCP ${t.port} to it${seen ? `; the probe saw: ${seen}` : ''}`);
    }
    if (j.ingress.allowed && j.egress.allowed) {
      if (j.ingress.isolatedBy.length || j.egress.isolatedBy.length) {
        evidence.push(`${where}: allowed by ${[...j.ingress.allowedBy, ...j.egress.allowedBy].join(', ')}${seen ? `; the probe saw: ${seen}` : ''}`);
      }
      allowed.add(where);
    }
  }
  for (const d of np.drops ?? []) evidence.push(`kernel on ${d.node}: ${d.packets} packet${d.packets === 1 ? '' : 's'} dropped by "${d.comment}"`);
  const out: Finding[] = [];
  const policyNames = (m: Map<string, string[]>) => [...new Set([...m.values()].flat())];
  for (const [dir, m] of [['ingress', blockedIn], ['egress', blockedOut]] as const) {
    if (m.size === 0) continue;
    const names = policyNames(m);
    const first = names[0]!.split('/');
    out.push(finding('network-policy', 'fail', dir === 'ingress' ? 'NetworkPolicyBlocksIngress' : 'NetworkPolicyBlocksEgress',
      `NetworkPolicy ${names.join(', ')} ${dir === 'ingress' ? `isolates ${m.size} of ${targets.length} endpoint${targets.length === 1 ? '' : 's'} and no policy allows the probe's traffic in` : `isolates the probe's namespace ${probe.pod.namespace} and no policy allows its traffic out`}`,
      evidence,
      [`kubectl describe networkpolicy ${first[1]} -n ${first[0]}`,
        dir === 'ingress'
          ? `# allow the clients: add an ingress rule to a policy selecting the Pods, e.g. from: [{podSelector: {matchLabels: {<client label>}}}], ports: [{port: <targetPort>}]`
          : `# allow the destination: add an egress rule (and one for DNS: UDP/TCP 53 to kube-system/kube-dns)`]));
  }
  // A default-deny egress without a DNS rule is the classic way to break names: judge the probe's
  // queries to each cluster DNS Pod (UDP 53, after the DNAT of the kube-dns Service).
  const dnsBlocked: string[] = [];
  const dnsPolicies = new Set<string>();
  for (const d of f.dnsPods) {
    const ip = d.status?.podIP;
    if (!ip) continue;
    const j = judge(policies, ns, probe, { ip, pod: podInfo(d) }, 'UDP', 53);
    if (j.egress.allowed && j.ingress.allowed) continue;
    const by = j.egress.allowed ? j.ingress.isolatedBy : j.egress.isolatedBy;
    by.forEach((k) => dnsPolicies.add(k));
    dnsBlocked.push(`${ip}:53/UDP (pod ${d.metadata?.namespace}/${d.metadata?.name}): ${j.egress.allowed ? 'its ingress' : `the probe's egress`} is isolated by ${by.join(', ')}; none allows it`);
  }
  if (dnsBlocked.length > 0 && dnsBlocked.length === f.dnsPods.filter((d) => d.status?.podIP).length) {
    const first = [...dnsPolicies][0]!.split('/');
    out.push(finding('network-policy', 'fail', 'NetworkPolicyBlocksDns',
      `NetworkPolicy ${[...dnsPolicies].join(', ')} blocks the cluster DNS for Pods of ${probe.pod.namespace}: names do not resolve`, dnsBlocked,
      [`kubectl describe networkpolicy ${first[1]} -n ${first[0]}`,
        `# allow DNS: egress to {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}} on UDP and TCP port 53`]));
  }
  if (out.length === 0) {
    out.push(evidence.length
      ? finding('network-policy', 'pass', 'NetworkPolicyAllows', 'NetworkPolicies isolate these Pods and allow the probe\'s traffic', evidence)
      : finding('network-policy', 'pass', 'NotIsolated', 'no NetworkPolicy isolates the Service\'s Pods or the probe'));
  }
  return out;
}
