import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invalidField, path } from './field.js';

test('field paths render as Kubernetes prints them, built only when read', () => {
  const ports = path('spec', 'ports');
  assert.equal(String(ports), 'spec.ports');
  assert.equal(String(ports.index(0).child('port')), 'spec.ports[0].port');
  assert.equal(String(path('metadata').child('annotations').key('a/b')), 'metadata.annotations[a/b]');
  assert.equal(String(path('').child('', 'name')), 'name', 'empty names are skipped when chaining');
  assert.equal(String(path('spec').child('template', 'spec')), 'spec.template.spec');
  const p = path('endpoints').index(3).child('addresses').index(1);
  assert.equal(invalidField(p, 'x', 'bad').field, 'endpoints[3].addresses[1]');
  assert.equal(`${p}`, 'endpoints[3].addresses[1]', 'the same text on every read');
});
