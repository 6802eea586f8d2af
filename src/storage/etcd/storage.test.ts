import { after, before } from 'node:test';
import { runStorageConformance } from '../testing/conformance.js';
import { startTestEtcd, uniquePrefix, type TestEtcd } from '../testing/etcd.js';
import { EtcdStorage } from './storage.js';

let etcd: TestEtcd;
before(async () => { etcd = await startTestEtcd(); });
after(async () => { await etcd?.close(); });

runStorageConformance('etcd', async () => ({
  storage: await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix(), historySize: 1000 }),
  cleanup: async () => {},
}));
