/**
 * One scenario both backends' golden tests run: a full sync of every shape, then an incremental
 * sync where an endpoint goes away, a Service without endpoints gets one and a Service is deleted.
 */
import type { ProxyBackend, ServiceState } from '../types.js';
import { NODE, shapes, slice, state, svc } from './shapes.js';

export interface ScenarioTexts { full: string; incremental: string; noop: string; restartFull: string; rulesSticky: string; rulesWeb: string; rulesLbLocal: string; rulesNpSticky: string }

export function runScenario(make: () => ProxyBackend): ScenarioTexts {
  const b = make();
  const desired = shapes();
  const full = b.plan(desired, new Set(), true, { chains: new Set(), sets: new Set() });
  full.commit();
  const rulesSticky = b.rulesFor('ns2/sticky');
  const rulesNpSticky = b.rulesFor('ns5/np-sticky');

  const next = new Map<string, ServiceState>(desired);
  next.set('ns1/web', state(svc('ns1', 'web', '10.96.0.11', [{ port: 80 }]),
    [slice('ns1', 'web', 'web-abc', [{ port: 8080 }], [{ ip: '10.244.0.2' }])]));
  next.set('ns1/dns', state(svc('ns1', 'dns', '10.96.0.12', [{ port: 53, protocol: 'UDP' }]),
    [slice('ns1', 'dns', 'dns-1', [{ port: 5353, protocol: 'UDP' }], [{ ip: '10.244.0.4' }])]));
  next.delete('ns2/sticky');
  // NodePort: the remote endpoint goes; LoadBalancer Local: its local endpoint goes (outside clients now dropped).
  next.set('ns4/np', state(svc('ns4', 'np', '10.96.0.16', [{ name: 'dns-tcp', port: 53, nodePort: 30053 }, { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053 }],
    { type: 'NodePort', externalTrafficPolicy: 'Cluster' }),
  [slice('ns4', 'np', 'np-1', [{ name: 'dns-tcp', port: 5353 }, { name: 'dns-udp', port: 5353, protocol: 'UDP' }], [{ ip: '10.244.0.20', nodeName: NODE }])]));
  next.set('ns4/lb-local', state(svc('ns4', 'lb-local', '10.96.0.17', [{ port: 80, nodePort: 30080 }],
    { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, loadBalancerSourceRanges: ['172.31.255.0/24', '192.0.2.0/24'] },
    { loadBalancer: { ingress: [{ ip: '172.31.255.200', ipMode: 'VIP' }] } }),
  [slice('ns4', 'lb-local', 'lb-local-1', [{ port: 8080 }], [{ ip: '10.244.1.21', nodeName: 'node-1' }, { ip: '10.244.2.21', nodeName: 'node-2' }])]));
  const inc = b.plan(next, new Set(['ns1/web', 'ns1/dns', 'ns2/sticky', 'ns4/np', 'ns4/lb-local']), false);
  inc.commit();
  const rulesWeb = b.rulesFor('ns1/web');
  const rulesLbLocal = b.rulesFor('ns4/lb-local');
  const noop = b.plan(next, new Set(['ns2/multi']), false);
  noop.commit();

  // A restarted proxy: empty model, the kernel still holds the old chains (sticky's among them).
  const fresh = make();
  const existing = { chains: new Set<string>(), sets: new Set<string>() };
  for (const line of full.text.split('\n')) {
    const m = /^add (chain|set) \S+ \S+ (\S+)/.exec(line) ?? /^:(KUBE-(?:SVC|SEP|SVL|EXT|FW)-\S+) /.exec(line);
    if (!m) continue;
    if (m.length === 3) (m[1] === 'chain' ? existing.chains : existing.sets).add(m[2]!);
    else existing.chains.add(m[1]!);
  }
  const restart = fresh.plan(next, new Set(), true, existing);
  return { full: full.text, incremental: inc.text, noop: noop.text, restartFull: restart.text, rulesSticky, rulesWeb, rulesLbLocal, rulesNpSticky };
}
