/**
 * Check 9 (Debug Services step 10, kubernetes#20475): a Pod reaches itself through its own Service.
 * Real connections from one of the Service's Pods to ClusterIP:port; the node's conntrack tells
 * which of them were balanced back to the same Pod (the hairpin path: out of the veth, DNATed on
 * the node, back in through the same bridge port, masqueraded).
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

export function checkHairpin(f: DiagnoseFacts): Finding[] {
  const v = f.explanation.service;
  if (!v.clusterIP) return [];
  const h = f.hairpin;
  if (!h) return [finding('hairpin', 'skip', 'NoReadyPod', 'no ready Pod of the Service to test hairpin from')];
  if (h.error) return [finding('hairpin', 'skip', 'NotProbed', `hairpin not tested: ${h.error}`)];
  const a = h.attempts;
  const total = a.ok + a.failed;
  const ev = [
    `${total} connections from ${h.pod} (${h.podIP}) to ${h.vip}:${h.port}: ${a.ok} answered${a.failed ? `, ${a.failed} failed (${Object.entries(a.errors).map(([k, n]) => `${k} ×${n}`).join(', ')})` : ''}`,
    `the node's conntrack shows ${h.selfConnections} of them DNATed back to ${h.podIP} itself`,
    ...(h.bridgeHairpin === undefined ? [] : [`hairpin mode on ${h.pod}'s bridge port: ${h.bridgeHairpin ? 'on' : 'OFF'}`]),
  ];
  if (a.failed > 0 && h.selfConnections === 0 && a.ok === 0) {
    return [finding('hairpin', 'fail', 'HairpinBroken', `${h.pod} cannot reach its own Service`, ev, [`clusterip explain pod/${h.pod} -n ${v.namespace} --name ${f.cluster.name}`])];
  }
  if (a.failed > 0) {
    return [finding('hairpin', 'fail', 'HairpinFails', `some connections from ${h.pod} through its own Service fail${h.selfConnections === 0 ? ' (those balanced back to itself?)' : ''}`, ev,
      [`clusterip explain pod/${h.pod} -n ${v.namespace} --name ${f.cluster.name}`])];
  }
  if (h.selfConnections > 0) return [finding('hairpin', 'pass', 'HairpinWorks', `${h.pod} reaches itself through its Service (${h.selfConnections} connection${h.selfConnections === 1 ? '' : 's'} came back to it and were answered)`, ev)];
  return [finding('hairpin', 'pass', 'HairpinNotExercised', `${h.pod} reaches its Service; none of the ${total} connections was balanced back to itself${v.sessionAffinity === 'ClientIP' ? ' (ClientIP affinity pins it to another Pod)' : ''}, so the hairpin path itself was not exercised`, ev)];
}
