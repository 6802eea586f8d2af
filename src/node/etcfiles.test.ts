import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { hostsFile, resolvConf } from './etcfiles.js';

const dns = { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', hostResolvConf: 'nameserver 1.1.1.1\nsearch example.com\n' };
const pod = (spec: Pod['spec'] = { containers: [] }): Pod => ({ metadata: { name: 'web', namespace: 'shop' }, spec });

test('ClusterFirst resolv.conf is what Kubernetes writes', () => {
  assert.equal(resolvConf(pod(), dns),
    'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
});

test('Default copies the host and None uses dnsConfig only', () => {
  assert.equal(resolvConf(pod({ containers: [], dnsPolicy: 'Default' }), dns), 'search example.com\nnameserver 1.1.1.1\n');
  assert.equal(resolvConf(pod({
    containers: [], dnsPolicy: 'None',
    dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
  }), dns), 'search a.b\nnameserver 9.9.9.9\noptions ndots:2 edns0\n');
});

test('hosts file carries the Pod name (or spec.hostname) and IP', () => {
  assert.match(hostsFile(pod(), '10.244.0.5', 'cluster.local'), /^10\.244\.0\.5\tweb$/m);
  assert.match(hostsFile(pod({ containers: [], hostname: 'h', subdomain: 's' }), '10.244.0.5', 'cluster.local'),
    /^10\.244\.0\.5\th\.s\.shop\.svc\.cluster\.local\th$/m);
});
