import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './errors.js';
import {
  labelSelectorFromLabelSelector, matchesLabelSelector, matchesServiceSelector, parseFieldSelector, parseLabelSelector, requiredPairs, selectorFromSet,
} from './selectors.js';

const L = { app: 'web', tier: 'fe', env: 'prod' };

describe('label selectors', () => {
  const cases: [string, boolean][] = [
    ['', true], ['app=web', true], ['app==web', true], ['app!=web', false], ['app!=db', true],
    ['app in (web,db)', true], ['app in (db)', false], ['app notin (db, x)', true], ['app notin (web)', false],
    ['tier', true], ['missing', false], ['!missing', true], ['!tier', false],
    ['app=web,tier=fe', true], ['app=web,tier=be', false], ['missing!=x', true], ['missing notin (x)', true],
    [' app = web , env in ( prod , dev ) ', true],
  ];
  for (const [sel, want] of cases) {
    it(`${JSON.stringify(sel)} → ${want}`, () => assert.equal(parseLabelSelector(sel).matches(L), want));
  }

  it('bad syntax is a 400 with Kubernetes-style wording', () => {
    for (const bad of ['a in ()', 'app in web', 'app=web,', '=x', 'a b', 'a in (x', 'bad key!/x=1', 'a=b c', 'a=' + 'x'.repeat(64)]) {
      assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400 && /^(found '.*', expected: |unable to parse requirement: )/.test(e.message), bad);
    }
  });

  it('exact wording of syntax errors', () => {
    assert.throws(() => parseLabelSelector('app in web'), { message: "found 'web', expected: '('" });
  });

  it('canonical string form sorts by key', () => {
    assert.equal(parseLabelSelector('tier in (fe,be),app=web,!x').toString(), 'app=web,tier in (fe,be),!x');
  });

  it('from metav1.LabelSelector and from a Service selector set', () => {
    const s = labelSelectorFromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }, { key: 'gone', operator: 'DoesNotExist' }] });
    assert.equal(s.matches(L), true);
    assert.equal(s.matches({ app: 'web', env: 'dev' }), false);
    assert.equal(labelSelectorFromLabelSelector(undefined).matches(L), false, 'nil selector matches nothing');
    assert.equal(labelSelectorFromLabelSelector({}).matches(L), true, 'empty selector matches everything');
    assert.equal(selectorFromSet({ app: 'web' }).matches(L), true);
    assert.equal(selectorFromSet({ app: 'db' }).matches(L), false);
    assert.equal(selectorFromSet({ app: 'web' }).toString(), 'app=web');
  });
});

describe('field selectors', () => {
  const get = (f: string) => ({ 'metadata.name': 'p', 'spec.nodeName': '', 'status.phase': 'Running' } as Record<string, string>)[f];
  it('=, ==, != and empty values', () => {
    assert.equal(parseFieldSelector('metadata.name=p').matches(get), true);
    assert.equal(parseFieldSelector('metadata.name==p,status.phase!=Pending').matches(get), true);
    assert.equal(parseFieldSelector('spec.nodeName=').matches(get), true);
    assert.equal(parseFieldSelector('spec.nodeName!=').matches(get), false);
    assert.equal(parseFieldSelector('').matches(get), true);
    assert.deepEqual(parseFieldSelector('a\\,b=c\\=d').requirements, [{ field: 'a\\,b', op: '=', value: 'c=d' }]);
  });
  it('bad syntax is a 400', () => {
    assert.throws(() => parseFieldSelector('metadata.name'), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  });
});

describe('direct matching of metav1.LabelSelector and Service selectors (the controllers\' form)', () => {
  it('service selectors: empty or missing matches nothing; all pairs required', () => {
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
  for (const [name, sel, labels, want] of cases) it(`label selector: ${name}`, () => assert.equal(matchesLabelSelector(sel, labels), want));

  it('requiredPairs from both selector shapes', () => {
    assert.deepEqual(requiredPairs({ app: 'x' }), ['app=x']);
    assert.deepEqual(requiredPairs({ matchLabels: { app: 'x' }, matchExpressions: [] }), ['app=x']);
    assert.deepEqual(requiredPairs(undefined), []);
  });

  it('agrees with the validated form (labelSelectorFromLabelSelector) on every case', () => {
    for (const [name, sel, labels, want] of cases) assert.equal(labelSelectorFromLabelSelector(sel).matches(labels), want, name);
  });
});
