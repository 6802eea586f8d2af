import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeDnsService, kubernetesService, nthAddress } from './addons.js';

test('nthAddress follows kubeadm: first IP for kubernetes, tenth for kube-dns', () => {
  assert.equal(nthAddress('10.96.0.0/12', 1), '10.96.0.1');
  assert.equal(nthAddress('10.96.0.0/12', 10), '10.96.0.10');
  assert.equal(nthAddress('10.100.7.0/16', 10), '10.100.0.10');
  assert.equal(kubernetesService('10.96.0.0/12').spec?.clusterIP, '10.96.0.1');
  assert.equal(kubeDnsService('10.96.0.0/12').spec?.clusterIP, '10.96.0.10');
  assert.throws(() => nthAddress('10.96.0/12', 1), /invalid IPv4 CIDR/);
});
