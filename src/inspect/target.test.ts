import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget } from './target.js';
import { InspectError } from './errors.js';

test('kind/name in kubectl spellings, and a bare name is a Service', () => {
  assert.deepEqual(parseTarget('svc/web'), { kind: 'service', name: 'web' });
  assert.deepEqual(parseTarget('Service/web'), { kind: 'service', name: 'web' });
  assert.deepEqual(parseTarget('pods/web-1'), { kind: 'pod', name: 'web-1' });
  assert.deepEqual(parseTarget('web'), { kind: 'service', name: 'web' });
});

test('malformed targets are refused with the nearest spelling', () => {
  const bad = (arg: string | undefined, re: RegExp, allowed?: ('service' | 'pod')[]) => assert.throws(() => parseTarget(arg, allowed), (e: unknown) => e instanceof InspectError && e.code === 'BadTarget' && re.test(e.message));
  bad('svcc/web', /unknown kind "svcc".*did you mean svc\/web\?/);
  bad('deploy/web', /unknown kind "deploy" in "deploy\/web": expected svc\/NAME or pod\/NAME$/);
  bad('svc/', /no name after "svc\/"/);
  bad('svc/Web', /not a valid Service name/);
  bad('svc/a/b', /not a valid Service name/);
  bad(undefined, /no object given/);
  bad('pod/x', /unknown kind "pod" in "pod\/x": expected svc\/NAME/, ['service']);
});
