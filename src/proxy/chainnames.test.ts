import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashName, iptEndpointChain, iptServiceChain, nftEndpointChain, nftServiceChain, NFT_NAME_MAX, IPT_CHAIN_MAX } from './chainnames.js';
import type { ServicePort } from './types.js';

const long = 'x'.repeat(63);
const sp: ServicePort = { namespace: long, name: long, portName: 'y'.repeat(15), protocol: 'SCTP', clusterIP: '10.96.0.1', port: 1 };

test('names stay within kernel limits and charset for the longest inputs', () => {
  for (const n of [nftServiceChain(sp), nftEndpointChain(sp, { ip: '255.255.255.255', port: 65535 })]) {
    assert.ok(n.length <= NFT_NAME_MAX);
    assert.match(n, /^[A-Za-z][A-Za-z0-9_./-]*$/);
  }
  for (const n of [iptServiceChain(sp), iptEndpointChain(sp, { ip: '10.0.0.1', port: 1 })]) {
    assert.ok(n.length <= IPT_CHAIN_MAX, n);
    assert.match(n, /^KUBE-S(VC|EP)-[A-Z2-7]{16}$/);
  }
});

test('names are stable and distinct per port and protocol', () => {
  assert.equal(hashName('a', 8), hashName('a', 8));
  assert.notEqual(nftServiceChain(sp), nftServiceChain({ ...sp, protocol: 'UDP' }));
  assert.notEqual(iptServiceChain(sp), iptServiceChain({ ...sp, portName: 'z' }));
});
