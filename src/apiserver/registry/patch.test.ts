import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import { applyPatch, jsonMergePatch } from './patch.js';

describe('JSON merge patch (RFC 7386 Appendix A test cases)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => assert.deepEqual(jsonMergePatch(target, patch), want));
  }
  it('does not mutate its inputs', () => {
    const t = { a: { b: 1 } };
    jsonMergePatch(t, { a: { b: 2 } });
    assert.deepEqual(t, { a: { b: 1 } });
  });
});

describe('applyPatch', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } };
  it('JSON patch ops, and failures as 422', () => {
    const out = applyPatch(R.configmaps, cm, 'application/json-patch+json', [{ op: 'replace', path: '/data/a', value: '2' }, { op: 'add', path: '/data/b', value: '3' }]);
    assert.deepEqual((out as unknown as { data: object }).data, { a: '2', b: '3' });
    assert.deepEqual(cm.data, { a: '1' }, 'input untouched');
    assert.throws(() => applyPatch(R.configmaps, cm, 'application/json-patch+json', [{ op: 'remove', path: '/nope' }]), (e: unknown) => e instanceof ApiError && e.code === 422);
    assert.throws(() => applyPatch(R.configmaps, cm, 'application/json-patch+json', { op: 'add' }), (e: unknown) => e instanceof ApiError && e.code === 400);
  });
  it('patch bodies given as text; malformed text is a 400', () => {
    const out = applyPatch(R.configmaps, cm, 'application/merge-patch+json', '{"data":{"a":null}}');
    assert.deepEqual((out as unknown as { data: object }).data, {});
    assert.throws(() => applyPatch(R.configmaps, cm, 'application/merge-patch+json', '{nope'), (e: unknown) => e instanceof ApiError && e.code === 400);
    assert.throws(() => applyPatch(R.configmaps, cm, 'application/merge-patch+json', [1]), (e: unknown) => e instanceof ApiError && e.code === 400);
    assert.throws(() => applyPatch(R.configmaps, cm, 'text/plain' as never, {}), (e: unknown) => e instanceof ApiError && e.code === 415);
  });
});
