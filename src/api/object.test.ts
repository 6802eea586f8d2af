import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepCopy, deepFreeze } from './object.js';

const pod = () => JSON.parse('{"metadata":{"name":"p","labels":{"app":"a"},"__proto__":{"x":1}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}],"nodeName":null},"status":{"podIPs":[{"ip":"10.0.0.1"}]}}') as Record<string, unknown>;

test('deepCopy: equal to a JSON round trip, sharing nothing with the original', () => {
  const a = pod();
  const b = deepCopy(a);
  assert.deepEqual(b, JSON.parse(JSON.stringify(a)));
  assert.equal(JSON.stringify(b), JSON.stringify(a), 'same keys in the same order');
  (b.spec as { containers: { name: string }[] }).containers[0].name = 'changed';
  assert.equal((a.spec as { containers: { name: string }[] }).containers[0].name, 'c');
  // A "__proto__" key (JSON.parse makes it an own property) stays a key; the copy's prototype is untouched.
  const md = b.metadata as Record<string, unknown>;
  assert.ok(Object.prototype.hasOwnProperty.call(md, '__proto__'));
  assert.equal(Object.getPrototypeOf(md), Object.prototype);
  assert.equal((md as { x?: number }).x, undefined);
  // Values that are not JSON-shaped are shared as they are (they serialize the same).
  const d = new Date(0);
  assert.equal(deepCopy({ d }).d, d);
});

test('deepFreeze: every nested object and array refuses writes; copies are writable again', () => {
  const a = deepFreeze(pod());
  assert.throws(() => { (a.metadata as { name: string }).name = 'x'; }, TypeError);
  assert.throws(() => { ((a.spec as { containers: unknown[] }).containers).push({}); }, TypeError);
  assert.throws(() => { ((a.status as { podIPs: { ip: string }[] }).podIPs[0]).ip = 'y'; }, TypeError);
  const b = deepCopy(a);
  (b.metadata as { name: string }).name = 'x';
  assert.equal((b.metadata as { name: string }).name, 'x');
  // A Buffer cannot be frozen; it is left alone instead of throwing.
  const withBuffer = deepFreeze({ data: Buffer.from('x') });
  assert.ok(Object.isFrozen(withBuffer) && !Object.isFrozen(withBuffer.data));
});
