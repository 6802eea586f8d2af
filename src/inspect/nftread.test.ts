// Reading one Service's nftables entries by key gives what a whole `nft list table` gives — also
// when the kernel holds more than the EndpointSlices say. Root: a scratch network namespace made and
// removed by this test, programmed with the proxy's own full-sync transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { NftablesProxier } from '../proxy/nftables/proxier.js';
import type { Endpoint, ServiceState } from '../proxy/types.js';
import { readNftService, expectedCommands } from './nftread.js';
import { parseNftTable } from './nfttext.js';
import { nftRulesForService } from './nftservice.js';
import type { SliceEndpoint } from './endpoints.js';
import type { ServiceView } from './types.js';

const ep = (ip: string): Endpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false });
const sliceEp = (ip: string): SliceEndpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false });
function state(name: string, ip: string, eps: Endpoint[], affinity?: number): ServiceState {
  return { key: `ns/${name}`, ports: [{ namespace: 'ns', name, portName: 'http', protocol: 'TCP', clusterIP: ip, port: 80, ...(affinity ? { affinityTimeoutSeconds: affinity } : {}) }], endpoints: new Map([['http/TCP', eps]]) };
}
function view(name: string, ip: string, affinity = false): ServiceView {
  return { namespace: 'ns', name, type: 'ClusterIP', headless: false, clusterIP: ip, sessionAffinity: affinity ? 'ClientIP' : 'None', ...(affinity ? { affinityTimeoutSeconds: 600 } : {}), publishNotReadyAddresses: false, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] };
}

test('expected commands: the verdict element, the mod chain, one element per slot, hairpin; the absent one last', () => {
  assert.deepEqual(expectedCommands(view('web', '10.96.0.11'), [[sliceEp('10.244.0.2'), sliceEp('10.244.0.3')]]), [
    'get element ip clusterip service-ips { 10.96.0.11 . tcp . 80 }',
    'list chain ip clusterip tcp-endpoints-mod-2',
    'get element ip clusterip service-endpoints-tcp { 10.96.0.11 . tcp . 80 . 0 }',
    'get element ip clusterip service-endpoints-tcp { 10.96.0.11 . tcp . 80 . 1 }',
    'get element ip clusterip hairpin-endpoints { 10.244.0.2 . 10.244.0.2 }',
    'get element ip clusterip hairpin-endpoints { 10.244.0.3 . 10.244.0.3 }',
    'get element ip clusterip no-endpoint-services { 10.96.0.11 . tcp . 80 }',
  ], 'the entry the slices say is absent comes last');
});

test('by-key reads equal the whole-table read, including what the slices do not expect (root)', async (t) => {
  const ns = `s16t-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => execFileSync('ip', ['netns', 'delete', ns]));
  const desired = new Map<string, ServiceState>([
    ['ns/web', state('web', '10.96.0.11', [ep('10.244.0.2'), ep('10.244.0.3'), ep('10.244.0.4')])],
    ['ns/sticky', state('sticky', '10.96.0.12', [ep('10.244.0.5'), ep('10.244.0.6')], 600)],
    ['ns/empty', state('empty', '10.96.0.13', [])],
  ]);
  for (let i = 0; i < 50; i++) desired.set(`ns/s${i}`, state(`s${i}`, `10.100.0.${i + 1}`, [ep('10.244.1.2'), ep('10.244.1.3')]));
  const p = new NftablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' });
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: p.plan(desired, new Set(), true, { chains: new Set(), sets: new Set() }).text });
  const whole = parseNftTable(execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'clusterip']).toString());
  const check = async (v: ServiceView, expected: SliceEndpoint[]) => {
    const r = await readNftService(ns, v, [expected]);
    assert.ok('text' in r, JSON.stringify(r));
    const byKey = nftRulesForService(parseNftTable(r.text), v.clusterIP!, v.ports);
    const all = nftRulesForService(whole, v.clusterIP!, v.ports);
    assert.deepEqual(byKey.ports, all.ports, v.name);
    assert.deepEqual(byKey.hairpin.sort(), all.hairpin.sort(), v.name);
    return byKey;
  };
  // As the slices say.
  assert.equal((await check(view('web', '10.96.0.11'), [sliceEp('10.244.0.2'), sliceEp('10.244.0.3'), sliceEp('10.244.0.4')])).ports[0]!.endpoints.length, 3);
  // The slices say 1 endpoint, the kernel holds 3: the second batch follows mod 3.
  const more = await check(view('web', '10.96.0.11'), [sliceEp('10.244.0.2')]);
  assert.equal(more.ports[0]!.modulus, 3);
  // Affinity chains and sets, named by the proxy's functions; and an unexpected one found through the chain.
  const sticky = await check(view('sticky', '10.96.0.12', true), [sliceEp('10.244.0.5')]);
  assert.deepEqual(sticky.ports[0]!.endpoints.map((e) => e.ip), ['10.244.0.5', '10.244.0.6']);
  assert.equal(sticky.ports[0]!.affinityTimeoutSeconds, 600);
  assert.equal((await check(view('empty', '10.96.0.13'), [])).ports[0]!.state, 'reject');
  assert.equal((await check(view('nothing', '10.96.0.99'), [])).ports[0]!.state, 'absent');
  const missing = await readNftService(`${ns}-none`, view('web', '10.96.0.11'), [[]]);
  assert.ok('error' in missing);
});
