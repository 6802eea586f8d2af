// The answer cache: hits regardless of the question's letter case, with the query's own ID, RD bit
// and spelling patched in; misses for another EDNS size, another generation; first-in-first-out eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as packet from 'dns-packet';
import type { Answer } from 'dns-packet';

// dns-packet exports its name codec, but @types/dns-packet does not declare it.
const dnsName = (packet as unknown as { name: { encodingLength(name: string): number } }).name;
import { AnswerCache } from './answercache.js';
import { FLAG, ReplyWriter } from './reply.js';

function query(name: string, opts: { id?: number; rd?: boolean; edns?: number } = {}): Buffer {
  return packet.encode({ id: opts.id ?? 1, type: 'query', flags: opts.rd === false ? 0 : packet.RECURSION_DESIRED,
    questions: [{ name, type: 'A', class: 'IN' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns } as unknown as Answer] : [] });
}
const qEnd = (name: string) => 12 + dnsName.encodingLength(name) + 4;
function reply(q: Buffer, name: string, ip: string): Buffer {
  return new ReplyWriter().encode({ query: q, questionEnd: qEnd(name), flags: FLAG.RD | FLAG.RA | FLAG.AA, edns: q.length > qEnd(name), limit: 512,
    answers: [{ name: name.toLowerCase(), type: 'A', ttl: 30, class: 'IN', data: ip }], authority: [] });
}
const NAME = 'web.default.svc.cluster.local';

test('a hit patches ID, RD and the question spelling; answer names follow the question', () => {
  const cache = new AnswerCache(10);
  const q = query(NAME);
  cache.set(q, qEnd(NAME), 1, reply(q, NAME, '10.0.0.1'));
  const mixed = 'WEB.default.Svc.cluster.local';
  const hit = cache.get(query(mixed, { id: 777, rd: false }), qEnd(mixed), 1);
  assert.ok(hit);
  const d = packet.decode(hit);
  assert.equal(d.id, 777);
  assert.equal(d.flags! & packet.RECURSION_DESIRED, 0);
  assert.equal(d.questions![0].name, mixed);
  assert.equal(d.answers![0].name, mixed);
  assert.equal((d.answers![0] as { data: string }).data, '10.0.0.1');
});

test('each hit is its own buffer: patching one reply never changes the cached answer', () => {
  const cache = new AnswerCache(10);
  const q = query(NAME);
  cache.set(q, qEnd(NAME), 1, reply(q, NAME, '10.0.0.1'));
  const upper = NAME.toUpperCase();
  const first = cache.get(query(upper, { id: 1 }), qEnd(upper), 1)!;
  const second = cache.get(query(NAME, { id: 2 }), qEnd(NAME), 1)!;
  assert.ok(first.buffer !== second.buffer || first.byteOffset !== second.byteOffset, 'two hits share memory');
  assert.equal(packet.decode(first).questions![0].name, upper);
  assert.equal(packet.decode(second).questions![0].name, NAME);
  first.fill(0);
  const third = cache.get(query(NAME, { id: 3 }), qEnd(NAME), 1)!;
  assert.equal(packet.decode(third).id, 3);
  assert.equal((packet.decode(third).answers![0] as { data: string }).data, '10.0.0.1');
});

test('misses: other name, other EDNS size, stale generation', () => {
  const cache = new AnswerCache(10);
  const q = query(NAME, { edns: 1232 });
  cache.set(q, qEnd(NAME), 1, reply(q, NAME, '10.0.0.1'));
  assert.ok(cache.get(query(NAME, { edns: 1232 }), qEnd(NAME), 1));
  assert.equal(cache.get(query(NAME), qEnd(NAME), 1), undefined);
  assert.equal(cache.get(query(NAME, { edns: 4096 }), qEnd(NAME), 1), undefined);
  assert.equal(cache.get(query(NAME, { edns: 1232 }), qEnd(NAME), 2), undefined);
  const other = 'wec.default.svc.cluster.local';
  assert.equal(cache.get(query(other, { edns: 1232 }), qEnd(other), 1), undefined);
});

test('a newer answer replaces the old one; when full the oldest entry goes', () => {
  const cache = new AnswerCache(2);
  const names = ['a.ns.svc.cluster.local', 'b.ns.svc.cluster.local', 'c.ns.svc.cluster.local'];
  const put = (n: string, gen: number, ip: string) => { const q = query(n); cache.set(q, qEnd(n), gen, reply(q, n, ip)); };
  const ip = (n: string, gen: number) => {
    const r = cache.get(query(n), qEnd(n), gen);
    return r && (packet.decode(r).answers![0] as { data: string }).data;
  };
  put(names[0], 1, '10.0.0.1');
  put(names[0], 2, '10.0.0.2');
  assert.equal(cache.size, 1);
  assert.equal(ip(names[0], 2), '10.0.0.2');
  put(names[1], 2, '10.0.0.3');
  put(names[2], 2, '10.0.0.4');
  assert.equal(cache.size, 2);
  assert.equal(ip(names[0], 2), undefined);
  assert.equal(ip(names[1], 2), '10.0.0.3');
  assert.equal(ip(names[2], 2), '10.0.0.4');
});
