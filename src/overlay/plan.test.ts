import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { desiredPeers, networkAddress, overlayCommands, peerOf, vniFor, vtepAnnotations } from './plan.js';

const node = (name: string, podCIDR: string | undefined, ann: Record<string, string>): Node => ({ metadata: { name, annotations: ann }, spec: podCIDR ? { podCIDR } : {} });

test('VNI from the Pod CIDR block, VTEP = network address, peers only on other machines and only when complete', () => {
  assert.equal(vniFor('10.244.0.0/16', '10.244.0.0/24'), 1);
  assert.equal(vniFor('10.244.0.0/16', '10.244.7.0/24'), 8);
  assert.throws(() => vniFor('10.244.0.0/16', '10.245.0.0/24'), /not inside/);
  assert.equal(networkAddress('10.244.7.0/24'), '10.244.7.0');
  const a = vtepAnnotations(8, 'aa:bb:cc:dd:ee:01', '192.168.77.2');
  assert.deepEqual(a, {
    'flannel.alpha.coreos.com/backend-type': 'vxlan',
    'flannel.alpha.coreos.com/backend-data': '{"VNI":8,"VtepMAC":"aa:bb:cc:dd:ee:01"}',
    'flannel.alpha.coreos.com/public-ip': '192.168.77.2',
  });
  const nodes = [
    node('self', '10.244.0.0/24', vtepAnnotations(1, 'aa:bb:cc:dd:ee:00', '192.168.77.1')),
    node('same-machine', '10.244.1.0/24', vtepAnnotations(2, 'aa:bb:cc:dd:ee:02', '192.168.77.1')),
    node('remote', '10.244.7.0/24', a),
    node('no-cidr-yet', undefined, vtepAnnotations(9, 'aa:bb:cc:dd:ee:09', '192.168.77.3')),
    node('no-annotations', '10.244.4.0/24', {}),
    node('garbage', '10.244.5.0/24', { ...a, 'flannel.alpha.coreos.com/backend-data': '{not json' }),
  ];
  assert.equal(peerOf(nodes[3]!), undefined);
  assert.deepEqual(desiredPeers('self', '192.168.77.1', nodes), [
    { node: 'remote', podCIDR: '10.244.7.0/24', vtep: '10.244.7.0', mac: 'aa:bb:cc:dd:ee:01', publicIP: '192.168.77.2', vni: 8 },
  ]);
});

test('overlay commands: fdb, neigh and route per peer; stale entries deleted; nothing for what is already right', () => {
  const peers = [{ node: 'r', podCIDR: '10.244.7.0/24', vtep: '10.244.7.0', mac: 'aa:bb:cc:dd:ee:01', publicIP: '192.168.77.2', vni: 8 }];
  assert.deepEqual(overlayCommands(peers, { routes: [], neighbours: [], fdb: [] }), {
    bridge: ['fdb append aa:bb:cc:dd:ee:01 dev vxlan0 dst 192.168.77.2 vni 8 self permanent'],
    ip: ['neigh replace 10.244.7.0 lladdr aa:bb:cc:dd:ee:01 dev vxlan0 nud permanent', 'route replace 10.244.7.0/24 via 10.244.7.0 dev vxlan0 onlink'],
  });
  const c = overlayCommands(peers, { routes: ['10.244.7.0/24', '10.244.9.0/24'], neighbours: ['10.244.7.0', '10.244.9.0'], fdb: ['aa:bb:cc:dd:ee:01 192.168.77.2 8', 'aa:bb:cc:dd:ee:09 192.168.77.3 10'] });
  assert.deepEqual(c.bridge, ['fdb del aa:bb:cc:dd:ee:09 dev vxlan0 dst 192.168.77.3 vni 10 self']);
  assert.deepEqual(c.ip.slice(0, 2), ['route del 10.244.9.0/24 dev vxlan0', 'neigh del 10.244.9.0 dev vxlan0']);
});
