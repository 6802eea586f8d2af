import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesLabelSelector, matchesServiceSelector, requiredPairs } from './selectors.js';

test('service selectors: empty or missing matches nothing; all pairs required', () => {
  assert.equal(matchesServiceSelector(undefined, { a: '1' }), false);
  assert.equal(matchesServiceSelector({}, { a: '1' }), false);
  assert.equal(matchesServiceSelector({ a: '1' }, { a: '1', b: '2' }), true);
  assert.equal(matchesServiceSelector({ a: '1', b: '3' }, { a: '1', b: '2' }), false);
});

const cases: [string, Parameters<typeof matchesLabelSelector>[0], Record<string, string> | undefined, boolean][] = [
  ['missing selector matches nothing', undefined, { a: '1' }, false],
  ['empty selector matches everything', {}, { a: '1' }, true],
  ['matchLabels', { matchLabels: { a: '1' } }, { a: '1' }, true],
  ['In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'qa'] }] }, { env: 'qa' }, true],
  ['In without the key', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, {}, false],
  ['NotIn without the key', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, {}, true],
  ['NotIn hit', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, { env: 'prod' }, false],
  ['Exists', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, { env: '' }, true],
  ['DoesNotExist', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, { env: 'x' }, false],
];
for (const [name, sel, labels, want] of cases) test(`label selector: ${name}`, () => assert.equal(matchesLabelSelector(sel, labels), want));

test('requiredPairs from both selector shapes', () => {
  assert.deepEqual(requiredPairs({ app: 'x' }), ['app=x']);
  assert.deepEqual(requiredPairs({ matchLabels: { app: 'x' }, matchExpressions: [] }), ['app=x']);
  assert.deepEqual(requiredPairs(undefined), []);
});
