// The reply encoder: name compression (RFC 1035 §4.1.4) and truncation to whole records, checked by
// decoding with dns-packet (an independent decoder) and by the exact sizes compression must give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as packet from 'dns-packet';
import type { Answer } from 'dns-packet';

// dns-packet exports its name codec, but @types/dns-packet does not declare it.
const dnsName = (packet as unknown as { name: { encodingLength(name: string): number } }).name;
import { FLAG, ReplyWriter } from './reply.js';
import { zoneLine } from './testing.js';

function query(name: string, type: packet.RecordType, edns?: number): Buffer {
  return packet.encode({ id: 4242, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns } as unknown as Answer] : [] });
}
const questionEnd = (q: Buffer) => 12 + dnsName.encodingLength(packet.decode(q).questions![0].name) + 4;
const a = (name: string, ip: string): Answer => ({ name, type: 'A', ttl: 30, class: 'IN', data: ip });
const soa: Answer = { name: 'cluster.local', type: 'SOA', ttl: 30, class: 'IN',
  data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 7, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 } };
const FLAGS = FLAG.RD | FLAG.RA | FLAG.AA;

function encode(q: Buffer, answers: Answer[], authority: Answer[] = [], limit = 512): Buffer {
  return new ReplyWriter().encode({ query: q, questionEnd: questionEnd(q), flags: FLAGS, answers, authority, edns: q.length > questionEnd(q), limit });
}
/** A headless Service's endpoints as A records under its name. */
const endpoints = (name: string, n: number) => Array.from({ length: n }, (_, i) => a(name, `10.244.${i >> 8}.${i & 255}`));

const HL = 'web.default.svc.cluster.local';
const HL_WIRE = dnsName.encodingLength(HL); // 31
const cases: { what: string; q: Buffer; answers: Answer[]; authority?: Answer[]; size: number }[] = [
  // header 12 + question (name + type + class) + per record: pointer 2 + type/class/ttl/rdlength 10 + rdata.
  { what: 'A answer owner is a pointer to the question', q: query(HL, 'A'), answers: [a(HL, '10.96.0.5')], size: 12 + HL_WIRE + 4 + (2 + 10 + 4) },
  { what: '10 headless answers, each 16 bytes', q: query(HL, 'A'), answers: endpoints(HL, 10), size: 12 + HL_WIRE + 4 + 10 * 16 },
  { what: 'SRV target written in full (RFC 2782), a later name points into it', q: query(`_http._tcp.${HL}`, 'SRV'),
    answers: [{ name: `_http._tcp.${HL}`, type: 'SRV', ttl: 30, class: 'IN', data: { priority: 0, weight: 100, port: 80, target: `web-0.${HL}` } },
      a(`web-0.${HL}`, '10.244.0.9')],
    // SRV: owner pointer 2 + 10 + 6 + target uncompressed ("web-0" label 6 + 31); then A: owner pointer to the target 2 + 10 + 4.
    size: 12 + (HL_WIRE + 11) + 4 + (2 + 10 + 6 + 6 + HL_WIRE) + (2 + 10 + 4) },
  { what: 'SOA names point into the question\'s zone suffix', q: query('nope.default.svc.cluster.local', 'A'), answers: [], authority: [soa],
    // owner: pointer; mname "ns" "dns" + pointer; rname "hostmaster" + pointer; 20 bytes of numbers.
    size: 12 + dnsName.encodingLength('nope.default.svc.cluster.local') + 4 + (2 + 10 + (3 + 4 + 2) + (11 + 2) + 20) },
];

for (const c of cases) {
  test(`compression: ${c.what}`, () => {
    const reply = encode(c.q, c.answers, c.authority);
    assert.equal(reply.length, c.size);
    const d = packet.decode(reply);
    assert.equal(d.id, 4242);
    assert.deepEqual((d.answers ?? []).map(zoneLine), c.answers.map(zoneLine));
    assert.deepEqual((d.authorities ?? []).map(zoneLine), (c.authority ?? []).map(zoneLine));
    // Never larger than the same message with every name in full.
    const full = packet.encode({ id: 1, type: 'response', questions: packet.decode(c.q).questions, answers: c.answers, authorities: c.authority ?? [] });
    assert.ok(reply.length <= full.length, `${reply.length} > ${full.length}`);
  });
}

test('answer names keep the spelling of the question (0x20), through the pointer', () => {
  const q = query('WeB.Default.svc.cluster.local', 'A');
  const d = packet.decode(encode(q, [a(HL, '10.0.0.1')]));
  assert.equal(d.answers![0].name, 'WeB.Default.svc.cluster.local');
});

test('truncation keeps as many whole answers as fit, sets TC, drops authority, keeps OPT', () => {
  const all = endpoints(HL, 60);
  // 512 - header 12 - question 35 = 465 bytes for 16-byte answers: 29 fit.
  const udp = packet.decode(encode(query(HL, 'A'), all, [soa]));
  assert.equal(udp.answers!.length, 29);
  assert.ok(udp.flags! & packet.TRUNCATED_RESPONSE);
  assert.equal(udp.authorities!.length, 0);
  assert.deepEqual(udp.answers!.map(zoneLine), all.slice(0, 29).map(zoneLine));
  // With EDNS 1232: OPT (11 bytes) reserved, the rest for answers: (1232 - 47 - 11) / 16 = 73 > 60: all fit, no TC.
  const edns = packet.decode(encode(query(HL, 'A', 1232), all, [], 1232));
  assert.equal(edns.answers!.length, 60);
  assert.equal(edns.flags! & packet.TRUNCATED_RESPONSE, 0);
  assert.equal(edns.additionals!.filter((r) => r.type === 'OPT').length, 1);
  const tight = encode(query(HL, 'A', 600), endpoints(HL, 100), [], 600);
  assert.ok(tight.length <= 600);
  const t = packet.decode(tight);
  assert.equal(t.answers!.length, Math.floor((600 - 12 - (HL_WIRE + 4) - 11) / 16));
  assert.equal(t.additionals!.filter((r) => r.type === 'OPT').length, 1);
  assert.ok(t.flags! & packet.TRUNCATED_RESPONSE);
});

test('a record that does not fit leaves no trace: its names are not pointer targets', () => {
  // The SRV target (a new name) would be written past the limit; the record is dropped, and the
  // encoder must not later point at the bytes it rolled back.
  const long = `${'x'.repeat(60)}.${'y'.repeat(60)}.${HL}`;
  const q = query(HL, 'A');
  const fill = endpoints(HL, 27); // 47 + 27 * 16 = 479 bytes
  const srv: Answer = { name: HL, type: 'SRV', ttl: 30, class: 'IN', data: { priority: 0, weight: 0, port: 1, target: long } };
  const reply = new ReplyWriter().encode({ query: q, questionEnd: questionEnd(q), flags: FLAGS, answers: [...fill, srv], authority: [a(long, '10.1.1.1')], edns: false, limit: 512 });
  const d = packet.decode(reply);
  assert.equal(d.answers!.length, 27);
  assert.ok(d.flags! & packet.TRUNCATED_RESPONSE);
  assert.equal(d.authorities!.length, 0);
});
