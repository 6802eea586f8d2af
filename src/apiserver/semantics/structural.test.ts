import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONSchemaProps } from 'kubernetes-types/apiextensions/v1.js';
import { fieldErrorMessage } from '../../api/errors.js';
import { applySchemaDefaults, prune, validateAgainstSchema } from './structural.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object', required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string' },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        mode: { type: 'string', enum: ['a', 'b'] },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } as JSONSchemaProps,
        items: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } },
      },
    },
  },
};

test('validation errors in Kubernetes\' words and field paths', () => {
  const msgs = validateAgainstSchema({ spec: { cronSpec: '* * * *', replicas: 15, mode: 'c', image: 3 } }, schema).map(fieldErrorMessage);
  assert.deepEqual(msgs, [
    "spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
    'spec.image: Invalid value: 3: spec.image in body must be of type string: "integer"',
    'spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10',
    'spec.mode: Unsupported value: "c": supported values: "a", "b"',
  ]);
  assert.deepEqual(validateAgainstSchema({ spec: {} }, schema).map(fieldErrorMessage), ['spec.cronSpec: Required value']);
});

test('pruning drops unknown fields (not under x-kubernetes-preserve-unknown-fields, not apiVersion/kind/metadata)', () => {
  const o = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, junk: 1, spec: { cronSpec: '* * * * *', nope: true, extra: { any: { thing: 1 } }, items: [{ n: 1, m: 2 }] } };
  assert.deepEqual(prune(o, schema), ['junk', 'spec.nope', 'spec.items[0].m']);
  assert.deepEqual(o, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec: { cronSpec: '* * * * *', extra: { any: { thing: 1 } }, items: [{ n: 1 }] } });
});

test('defaulting fills absent fields of objects that exist', () => {
  const o: Record<string, unknown> = { spec: { cronSpec: '* * * * *' } };
  applySchemaDefaults(o, schema);
  assert.deepEqual(o, { spec: { cronSpec: '* * * * *', replicas: 1 } });
  const empty: Record<string, unknown> = {};
  applySchemaDefaults(empty, schema);
  assert.deepEqual(empty, {});
});
