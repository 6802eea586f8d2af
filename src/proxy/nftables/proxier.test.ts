import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NftablesProxier } from './proxier.js';
import { runScenario } from '../testing/scenario.js';
import { assertGolden } from '../testing/golden.js';
import { NODE_IP } from '../testing/shapes.js';

const here = dirname(fileURLToPath(import.meta.url));
const texts = runScenario(() => new NftablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', nodeIPs: [NODE_IP] }));

test('full sync renders every Service shape (golden)', () => assertGolden(here, 'full-sync.nft', texts.full));
test('incremental sync sends only the difference (golden)', () => assertGolden(here, 'incremental.nft', texts.incremental));
test('a restarted proxy re-declares without deleting the table and removes leftovers (golden)', () => assertGolden(here, 'restart-full.nft', texts.restartFull));
test('rulesFor shows one Service (golden)', () => {
  assertGolden(here, 'rules-sticky.nft', texts.rulesSticky);
  assertGolden(here, 'rules-web.nft', texts.rulesWeb);
  assertGolden(here, 'rules-lb-local.nft', texts.rulesLbLocal);
  assertGolden(here, 'rules-np-sticky.nft', texts.rulesNpSticky);
});
test('a sync with no real change sends nothing', () => assert.equal(texts.noop, ''));
test('full sync never deletes or flushes the table (affinity sets and flows survive)', () => {
  assert.doesNotMatch(texts.restartFull, /delete table|flush table|flush set ip clusterip affinity/);
});

test('a table whose maps have no counters (an older proxy wrote it) is replaced in the same transaction', async () => {
  const { parseInventory } = await import('./proxier.js');
  const old = 'table ip clusterip {\n\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\tcomment "x"\n\t}\n\tchain services {\n\t}\n}\n';
  const now = 'table ip clusterip {\n\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\tcounter\n\t\tcomment "x"\n\t}\n\tset affinity-X {\n\t\ttype ipv4_addr\n\t}\n\tchain services {\n\t}\n}\n';
  const legacy = parseInventory(old);
  assert.equal(legacy.recreate, true);
  assert.deepEqual([...legacy.chains], ['services']);
  const current = parseInventory(now);
  assert.equal(current.recreate, undefined, 'counted maps and uncounted affinity sets are current');
  assert.deepEqual([...current.sets], ['service-ips', 'affinity-X']);
  const p = new NftablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16' });
  const text = p.plan(new Map(), new Set(), true, legacy).text;
  assert.match(text, /^delete table ip clusterip\nadd table ip clusterip\n/);
  assert.doesNotMatch(text, /delete chain/, 'nothing of the deleted table is deleted again');
  assert.doesNotMatch(p.plan(new Map(), new Set(), true, current).text, /delete table/);
});
