// The DNS server's Prometheus metrics over real queries (dig on 127.0.0.1, loopback only), and the
// "record live" reports it sends to the trace recorder (a real HTTP server on a unix socket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClient } from '../client/testing/fake.js';
import { R } from '../api/resources.js';
import { startDnsServer } from './server.js';
import { svc } from './testing.js';
import { LiveReporter, DNS_REPORT_PATH, type DnsLiveReport } from './livereport.js';
import { scrape, sampleValue } from '../inspect/testing/prometheus.js';

const run = promisify(execFile);
const dig = async (port: number, ...args: string[]) => (await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args])).stdout;

test('coredns_dns_* metrics: CoreDNS names and labels, valid exposition, counts move with queries', async (t) => {
  const client = new FakeClient();
  await client.create(R.services, 'default', svc('default', 'web', { clusterIP: '10.96.7.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 } });
  t.after(() => server.stop());
  await server.synced;
  const m = server.metrics!;
  const before = scrape(await m.text());
  assert.equal(sampleValue(before, 'coredns_dns_requests_total', { type: 'A' }), 0);

  for (let i = 0; i < 3; i++) await dig(server.port, 'web.default.svc.cluster.local');
  await dig(server.port, '+tcp', 'web.default.svc.cluster.local');
  await dig(server.port, 'SRV', '_http._tcp.web.default.svc.cluster.local');
  await dig(server.port, 'nope.default.svc.cluster.local');
  await dig(server.port, 'TYPE99', 'web.default.svc.cluster.local');

  const after = scrape(await m.text());
  const server_ = `dns://:${server.port}`;
  assert.equal(sampleValue(after, 'coredns_dns_requests_total', { server: server_, zone: '.', proto: 'udp', family: '1', type: 'A' }), 4);
  assert.equal(sampleValue(after, 'coredns_dns_requests_total', { proto: 'tcp', type: 'A' }), 1);
  assert.equal(sampleValue(after, 'coredns_dns_requests_total', { proto: 'udp', type: 'SRV' }), 1);
  assert.equal(sampleValue(after, 'coredns_dns_requests_total', { type: 'other' }), 1, 'unnamed types count as "other"');
  assert.equal(sampleValue(after, 'coredns_dns_responses_total', { rcode: 'NXDOMAIN' }), 1);
  assert.equal(sampleValue(after, 'coredns_dns_responses_total', { rcode: 'NOERROR' }), 6);
  const dur = after.get('coredns_dns_request_duration_seconds')!;
  assert.equal(dur.type, 'histogram');
  const a = dur.samples.find((s) => s.labels.type === 'A')!;
  assert.equal(a.count, 5, '3 + 1 (TCP) + 1 NXDOMAIN A queries');
  assert.ok(a.sum! > 0 && a.sum! < 1, `A durations sum to ${a.sum} s`);
  assert.deepEqual(Object.keys(a.buckets!).slice(0, 3), ['0.00025', '0.0005', '0.001'], 'CoreDNS buckets');
});

test('LiveReporter: a Service change is reported with the addresses the server now answers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cip-dnsreport-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'api.sock');
  const got: DnsLiveReport[] = [];
  const api = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { if (req.url === DNS_REPORT_PATH && req.method === 'POST') got.push(...(JSON.parse(body) as { reports: DnsLiveReport[] }).reports); res.end('{}'); });
  });
  await new Promise<void>((r) => api.listen(socketPath, r));
  t.after(() => new Promise<void>((r) => api.close(() => r())));

  const client = new FakeClient();
  let reporter!: LiveReporter;
  const server = await startDnsServer({ client, listen: { address: '127.0.0.1', port: 0 }, metrics: false, onRecordsChanged: (k, rv) => reporter.changed(k, rv) });
  reporter = new LiveReporter({ socketPath, index: server.index, zone: 'cluster.local', intervalMs: 5 });
  t.after(() => { reporter.stop(); return server.stop(); });
  await server.synced;
  const t0 = Date.now();
  const created = await client.create(R.services, 'default', svc('default', 'late', { clusterIP: '10.96.8.8', ports: [{ port: 80 }] }));
  for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.service, 'default/late');
  assert.equal(got[0]!.name, 'late.default.svc.cluster.local');
  assert.deepEqual(got[0]!.addresses, ['10.96.8.8']);
  assert.equal(got[0]!.resourceVersion, created.metadata!.resourceVersion);
  assert.ok(got[0]!.at >= t0 - 1 && got[0]!.at <= Date.now() + 1);
  await client.delete(R.services, 'default', 'late');
  for (let i = 0; i < 200 && got.length === 1; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(got[1], { service: 'default/late', name: 'late.default.svc.cluster.local', addresses: [], at: got[1]!.at });
});
