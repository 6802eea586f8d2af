import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../api/errors.js';
import { decodeBody } from './body.js';

const rejects400 = (body: string, contentType: string, message: RegExp) =>
  assert.throws(() => decodeBody(Buffer.from(body), contentType), (e: unknown) => e instanceof ApiError && e.code === 400 && message.test(e.message));

test('YAML bodies that do not decode are 400 BadRequest, never an internal error', () => {
  // An alias whose anchor is missing parses, and only fails when resolved (found by the HTTP fuzz test).
  rejects400('*a', 'application/yaml', /could not be decoded as YAML: Unresolved alias/);
  rejects400('*!', 'application/apply-patch+yaml', /could not be decoded as YAML/);
  rejects400('a: [1', 'application/yaml', /could not be decoded as YAML/);
  rejects400('a: 1\n---\nb: 2', 'application/yaml', /exactly one YAML document/);
});

test('JSON and YAML objects decode to the same value', () => {
  assert.deepEqual(decodeBody(Buffer.from('{"a": {"b": [1, "x"]}}'), 'application/json'), { a: { b: [1, 'x'] } });
  assert.deepEqual(decodeBody(Buffer.from('a:\n  b: [1, x]\n'), 'application/yaml'), { a: { b: [1, 'x'] } });
  assert.deepEqual(decodeBody(Buffer.from('base: &x {k: v}\nref: *x\n'), 'application/yaml'), { base: { k: 'v' }, ref: { k: 'v' } });
});
