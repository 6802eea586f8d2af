import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DnsUsageError, parseDnsOptions } from './options.js';

test('the flags the clusterip/dns image passes parse to the server options', () => {
  assert.deepEqual(parseDnsOptions(['--api-socket', '/s/api.sock', '--listen', '0.0.0.0:53', '--zone', 'cluster.local', '--upstream', '8.8.8.8']), {
    apiSocket: '/s/api.sock', kubeconfig: undefined, listen: { address: '0.0.0.0', port: 53 }, zone: 'cluster.local', ttl: 30, upstream: '8.8.8.8', help: false,
  });
  const o = parseDnsOptions(['--kubeconfig=/k', '--listen', '[::1]:5353', '--ttl', '5', '--zone', 'corp.example.']);
  assert.deepEqual([o.kubeconfig, o.listen, o.ttl, o.zone], ['/k', { address: '::1', port: 5353 }, 5, 'corp.example']);
});

test('a bad command line is a DnsUsageError that says what is wrong', () => {
  const bad = (argv: string[], re: RegExp) => assert.throws(() => parseDnsOptions(argv), (e: unknown) => e instanceof DnsUsageError && re.test(e.message), argv.join(' '));
  bad(['--api-socket', 's', '--tll', '5'], /Unknown option '--tll'/);
  bad(['--api-socket', 's', '--ttl', 'abc'], /--ttl: "abc" is not a whole number/);
  bad(['--api-socket', 's', '--ttl', '-1'], /--ttl/);
  bad(['--api-socket', 's', '--ttl', '1.5'], /--ttl: "1.5"/);
  bad(['--api-socket', 's', '--listen', 'localhost:53'], /--listen: "localhost:53" is not an ip:port/);
  bad(['--api-socket', 's', '--listen', '0.0.0.0:99999'], /--listen/);
  bad(['--api-socket', 's', '--upstream', 'dns.google'], /--upstream/);
  bad(['--api-socket', 's', '--zone', 'bad zone'], /--zone/);
  bad([], /exactly one of --api-socket or --kubeconfig/);
  bad(['--api-socket', 's', '--kubeconfig', 'k'], /exactly one/);
  bad(['--api-socket', 's', 'stray'], /Unexpected argument 'stray'|unexpected/i);
});

test('the DNS process exits 2 with the usage on a bad flag', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), '--api-socket', '/nowhere', '--ttl', 'soon'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /dns: --ttl: "soon" is not a whole number of seconds/);
  assert.match(r.stderr, /usage: main\.js/);
});
