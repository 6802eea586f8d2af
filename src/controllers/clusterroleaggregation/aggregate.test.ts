import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import { aggregatedRules, sameRules } from './aggregate.js';

const role = (name: string, labels: Record<string, string>, rules: ClusterRole['rules'], aggregateFrom?: string): ClusterRole => ({
  metadata: { name, labels }, rules,
  ...(aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`x/aggregate-to-${aggregateFrom}`]: 'true' } }] } } : {}),
});

test('an aggregated role holds the rules of the roles it selects, by name, each once, never its own', () => {
  const read = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
  const write = { apiGroups: [''], resources: ['pods'], verbs: ['create'] };
  const view = role('view', { 'x/aggregate-to-edit': 'true' }, [], 'view');
  const all = [
    view,
    role('b-extra', { 'x/aggregate-to-view': 'true' }, [write, read]),
    role('a-base', { 'x/aggregate-to-view': 'true' }, [read]),
    role('other', {}, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
  ];
  assert.deepEqual(aggregatedRules(view, all), [read, write]);
  assert.equal(aggregatedRules(all[3]!, all), undefined);
  assert.ok(sameRules([read, write], [{ ...read }, { ...write }]));
  assert.ok(!sameRules([read, write], [write, read]));
  // A role selecting itself does not include its own rules.
  const self = role('self', { 'x/aggregate-to-self': 'true' }, [read], 'self');
  assert.deepEqual(aggregatedRules(self, [self]), []);
});
