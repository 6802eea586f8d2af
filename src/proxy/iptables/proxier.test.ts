import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IptablesProxier } from './proxier.js';
import { runScenario } from '../testing/scenario.js';
import { assertGolden } from '../testing/golden.js';
import { NODE_IP } from '../testing/shapes.js';

const here = dirname(fileURLToPath(import.meta.url));
const texts = runScenario(() => new IptablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', nodeIPs: [NODE_IP] }));

test('full sync renders every Service shape (golden)', () => assertGolden(here, 'full-sync.iptables', texts.full));
test('incremental sync rewrites only changed chains (golden)', () => assertGolden(here, 'incremental.iptables', texts.incremental));
test('a restarted proxy removes leftover chains (golden)', () => assertGolden(here, 'restart-full.iptables', texts.restartFull));
test('rulesFor shows one Service (golden)', () => {
  assertGolden(here, 'rules-sticky.iptables', texts.rulesSticky);
  assertGolden(here, 'rules-web.iptables', texts.rulesWeb);
  assertGolden(here, 'rules-lb-local.iptables', texts.rulesLbLocal);
  assertGolden(here, 'rules-np-sticky.iptables', texts.rulesNpSticky);
});
test('chain names fit the iptables limit', () => {
  for (const m of texts.full.matchAll(/^:(\S+) /gm)) assert.ok(m[1]!.length <= 28, m[1]);
});
test('a sync with no real change rewrites no per-Service chain', () => assert.doesNotMatch(texts.noop, /^(:|-A )KUBE-(SVC|SEP|SVL|EXT|FW)-/m));
