import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conntrackArgs, staleUdpFlows } from './conntrack.js';
import { slice, state, svc } from './testing/shapes.js';

const dns = (ips: string[]) => state(svc('ns', 'dns', '10.96.0.10', [{ port: 53, protocol: 'UDP' }]),
  ips.length ? [slice('ns', 'dns', 'd', [{ port: 53, protocol: 'UDP' }], ips.map((ip) => ({ ip })))] : []);

test('a removed UDP endpoint yields one targeted deletion', () => {
  assert.deepEqual(staleUdpFlows(dns(['10.244.0.2', '10.244.0.3']), dns(['10.244.0.3'])),
    [{ clusterIP: '10.96.0.10', port: 53, endpointIP: '10.244.0.2' }]);
  assert.deepEqual(conntrackArgs({ clusterIP: '10.96.0.10', port: 53, endpointIP: '10.244.0.2' }),
    ['conntrack', '-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--orig-port-dst', '53', '--reply-src', '10.244.0.2']);
});

test('no endpoints -> some clears the Service port; unchanged or TCP does nothing', () => {
  assert.deepEqual(staleUdpFlows(dns([]), dns(['10.244.0.3'])), [{ clusterIP: '10.96.0.10', port: 53 }]);
  assert.deepEqual(staleUdpFlows(dns(['10.244.0.3']), dns(['10.244.0.3'])), []);
  const web = state(svc('ns', 'web', '10.96.0.11', [{ port: 80 }]), [slice('ns', 'web', 'w', [{ port: 80 }], [{ ip: '10.244.0.2' }])]);
  assert.deepEqual(staleUdpFlows(web, undefined), []);
});

test('a UDP NodePort and LoadBalancer IP are cleaned too: by NodePort on any address, by IP for the VIP', () => {
  const np = (ips: string[]) => state(svc('ns', 'dns', '10.96.0.10', [{ port: 53, protocol: 'UDP', nodePort: 30053 }], { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
    { loadBalancer: { ingress: [{ ip: '172.31.255.200' }] } }), [slice('ns', 'dns', 'd', [{ port: 53, protocol: 'UDP' }], ips.map((ip) => ({ ip })))]);
  assert.deepEqual(staleUdpFlows(np(['10.244.0.2', '10.244.0.3']), np(['10.244.0.3'])), [
    { clusterIP: '10.96.0.10', port: 53, endpointIP: '10.244.0.2' },
    { clusterIP: '172.31.255.200', port: 53, endpointIP: '10.244.0.2' },
    { port: 30053, endpointIP: '10.244.0.2' },
  ]);
  assert.deepEqual(conntrackArgs({ port: 30053, endpointIP: '10.244.0.2' }), ['conntrack', '-D', '-p', 'udp', '--orig-port-dst', '30053', '--reply-src', '10.244.0.2']);
});
