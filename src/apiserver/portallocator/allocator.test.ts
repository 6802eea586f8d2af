import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodePortAllocator, PortAllocatorError, parsePortRange } from './allocator.js';

test('range parsing: the forms --service-node-port-range accepts, and bad ones', () => {
  assert.deepEqual(parsePortRange('30000-32767'), { base: 30000, size: 2768, text: '30000-32767' });
  assert.deepEqual(parsePortRange('30000+9'), { base: 30000, size: 10, text: '30000-30009' });
  assert.deepEqual(parsePortRange('30080'), { base: 30080, size: 1, text: '30080-30080' });
  assert.throws(() => parsePortRange('32767-30000'), /invalid port range/);
  assert.throws(() => parsePortRange('x-y'), /unable to parse port range/);
  assert.throws(() => parsePortRange('0-10'), /invalid port range/);
});

test('KEP-3668 bands: the default range has a static band of 86 ports (2768/32) that dynamic allocation avoids', () => {
  const a = new NodePortAllocator();
  assert.equal(a.offset, 86);
  for (let i = 0; i < 500; i++) assert.ok(a.allocateNext(`ns/s${i}`) >= 30086);
  // Small ranges clamp the band to [16, 128].
  assert.equal(new NodePortAllocator('30000-30099').offset, 16);
  assert.equal(new NodePortAllocator('1-65535').offset, 128);
  assert.equal(new NodePortAllocator('30000-30009').offset, 0);
});

test('the static band is used only once the dynamic band is full', () => {
  const a = new NodePortAllocator('30000-30031', { random: () => 0 });
  assert.equal(a.offset, 16);
  const got = Array.from({ length: 16 }, () => a.allocateNext());
  assert.deepEqual(got, Array.from({ length: 16 }, (_, i) => 30016 + i));
  assert.equal(a.allocateNext(), 30000);
});

test('specific ports: in range, unique, Kubernetes wording; full range', () => {
  const a = new NodePortAllocator('30000-30001');
  a.allocate(30000, 'default/a');
  assert.throws(() => a.allocate(30000, 'default/b'), (e: unknown) => e instanceof PortAllocatorError && e.code === 'AlreadyAllocated' && e.message === 'provided port is already allocated');
  assert.throws(() => a.allocate(8080), /^PortAllocatorError: provided port is not in the valid range\. The range of valid ports is 30000-30001$/);
  a.allocateNext();
  assert.throws(() => a.allocateNext(), /range is full/);
});

test('release by owner: another owner cannot free a port it does not hold', () => {
  const a = new NodePortAllocator();
  a.allocate(30080, 'default/a');
  a.release(30080, 'default/b');
  assert.equal(a.has(30080), true);
  a.release(30080, 'default/a');
  assert.equal(a.has(30080), false);
});
