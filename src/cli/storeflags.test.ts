import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './args.js';
import { storeOptions } from './storeflags.js';

test('store flags: SQLite by default, external etcd with TLS files, embedded etcd', () => {
  assert.deepEqual(storeOptions({ store: 'sqlite' }), { kind: 'sqlite' });
  assert.deepEqual(storeOptions({ store: 'etcd', 'etcd-endpoints': 'https://h1:2379, https://h2:2379', 'etcd-compaction-interval': 60, 'etcd-cafile': '/etc/hostname' }), {
    kind: 'etcd', endpoints: ['https://h1:2379', 'https://h2:2379'], caFile: '/etc/hostname', certFile: undefined, keyFile: undefined, prefix: '', compactionIntervalMs: 60_000,
  });
  assert.deepEqual(storeOptions({ store: 'sqlite', 'embedded-etcd': true }), { kind: 'embedded-etcd', compactionIntervalMs: 300_000 });
});

test('store flags: inconsistent combinations are usage errors that say what to do', () => {
  const bad = (flags: Record<string, unknown>, re: RegExp) => assert.throws(() => storeOptions(flags), (e: unknown) => e instanceof UsageError && re.test(e.message));
  bad({ store: 'mysql' }, /--store must be sqlite or etcd/);
  bad({ store: 'etcd' }, /--store etcd needs --etcd-endpoints/);
  bad({ store: 'sqlite', 'etcd-endpoints': 'https://h:2379' }, /need --store etcd/);
  bad({ store: 'etcd', 'etcd-endpoints': 'https://h:2379', 'etcd-certfile': '/etc/hostname' }, /go together/);
  bad({ store: 'etcd', 'etcd-endpoints': 'https://h:2379', 'etcd-cafile': '/nonexistent/ca.crt' }, /--etcd-cafile: \/nonexistent\/ca.crt does not exist/);
  bad({ 'embedded-etcd': true, 'etcd-endpoints': 'https://h:2379' }, /exclude each other/);
  bad({ store: 'etcd', 'etcd-endpoints': 'h', 'etcd-compaction-interval': -1 }, /--etcd-compaction-interval/);
});
