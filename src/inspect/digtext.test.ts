import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDig } from './digtext.js';

test('three questions in one dig run: an A record, an SRV record, NXDOMAIN', () => {
  // `ip netns exec <node> dig @10.96.0.10 +time=1 +tries=1 +noall +comments +answer
  //  nginx-service.default.svc.cluster.local A _http._tcp.nginx-service-01.student-01.svc.cluster.local SRV nope.default.svc.cluster.local A`
  const text = readFileSync(join(import.meta.dirname, 'testdata', 'dig-3-queries.txt'), 'utf8');
  assert.deepEqual(parseDig(text, ['A', 'SRV', 'A']), [
    { rcode: 'NOERROR', answers: ['10.98.93.201'] },
    { rcode: 'NOERROR', answers: ['0 100 80 nginx-service-01.student-01.svc.cluster.local'] },
    { rcode: 'NXDOMAIN', answers: [] },
  ]);
});

test('no answer at all is TIMEOUT; an empty NOERROR answer is NODATA', () => {
  assert.deepEqual(parseDig(';; communications error to 10.96.0.99#53: timed out\n;; no servers could be reached\n', ['A']), [{ rcode: 'TIMEOUT', answers: [], error: 'no answer from the DNS server' }]);
  const nodata = ';; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr aa; QUERY: 1, ANSWER: 0\n';
  assert.deepEqual(parseDig(nodata, ['A', 'A']), [{ rcode: 'NODATA', answers: [] }, { rcode: 'ERROR', answers: [], error: 'dig printed no answer' }]);
});
