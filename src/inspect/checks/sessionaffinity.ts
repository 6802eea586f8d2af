/**
 * Check 10b: session affinity is what the spec asks for, in the kernel of every node (ClientIP: the
 * nftables set timeout / iptables `recent --seconds`), and has an effect at all (not on a headless
 * or ExternalName Service, where no proxy balances).
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

export function checkSessionAffinity(f: DiagnoseFacts): Finding[] {
  const v = f.explanation.service;
  if (v.sessionAffinity !== 'ClientIP') {
    return [finding('session-affinity', 'pass', 'AffinityNone', 'sessionAffinity None: each new connection is balanced on its own')];
  }
  if (!v.clusterIP) {
    return [finding('session-affinity', 'warn', 'AffinityHasNoEffect', `sessionAffinity ClientIP has no effect on a${v.type === 'ExternalName' ? 'n ExternalName' : ' headless'} Service: there is no virtual IP for the proxy to pin`, [],
      [`kubectl patch svc ${v.name} -n ${v.namespace} --type=merge -p '{"spec":{"sessionAffinity":"None"}}'`])];
  }
  const want = v.affinityTimeoutSeconds ?? 10800;
  const wrong: string[] = [];
  const right: string[] = [];
  for (const n of f.explanation.nodes) {
    for (const p of n.ports) {
      if (p.state !== 'endpoints') continue;
      const t = p.affinityTimeoutSeconds;
      (t === want ? right : wrong).push(`node ${n.node} ${p.port}/${p.protocol}: ${t === undefined ? 'no affinity in the rules' : `timeout ${t} s`}`);
    }
  }
  if (wrong.length) {
    return [finding('session-affinity', 'fail', 'AffinityNotProgrammed', `ClientIP affinity (${want} s) is not what the kernel does`, [...wrong, ...right],
      [`clusterip explain svc/${v.name} -n ${v.namespace} --name ${f.cluster.name}`])];
  }
  return [finding('session-affinity', 'pass', 'AffinityClientIP', `ClientIP affinity, ${want} s: a client stays on one Pod while it keeps connecting`,
    right.length ? right : ['(no endpoints: nothing to pin yet)'])];
}
