import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ipam, gatewayOf } from './ipam.js';

function tmpdir(t: { after(fn: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ipam-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('allocates lowest free host address, skipping gateway, idempotent per uid', (t) => {
  const ipam = new Ipam(tmpdir(t), '10.244.3.0/24');
  assert.equal(gatewayOf('10.244.3.0/24'), '10.244.3.1');
  assert.equal(ipam.allocate('a'), '10.244.3.2');
  assert.equal(ipam.allocate('b'), '10.244.3.3');
  assert.equal(ipam.allocate('a'), '10.244.3.2');
  ipam.release('a');
  assert.equal(ipam.allocate('c'), '10.244.3.2');
});

test('persists across instances (agent restart) and never hands an address out twice', (t) => {
  const dir = tmpdir(t);
  const a = new Ipam(dir, '10.244.0.0/24');
  const ips = new Set<string>();
  for (let i = 0; i < 50; i++) ips.add(a.allocate(`u${i}`));
  assert.equal(ips.size, 50);
  const b = new Ipam(dir, '10.244.0.0/24');
  assert.equal(b.addressOf('u7'), a.addressOf('u7'));
  assert.ok(!ips.has(b.allocate('new')));
});

test('exhaustion is a typed error', (t) => {
  const ipam = new Ipam(tmpdir(t), '10.244.0.0/29');
  for (let i = 0; i < 5; i++) ipam.allocate(`u${i}`);
  assert.throws(() => ipam.allocate('x'), { name: 'NodeError', code: 'IPAM_EXHAUSTED' });
});
