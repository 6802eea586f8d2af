// The feed keeps the index equal to the API through slice adds, updates, moves between Services and
// deletes (the informer keeps slices packed; the index refers to the same packed arrays).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../client/testing/fake.js';
import { R } from '../api/resources.js';
import { RecordIndex } from './records.js';
import { ServiceRecordFeed } from './feed.js';
import { slice, svc } from './testing.js';

const addresses = (ix: RecordIndex, name: string) => (ix.lookup(name) ?? []).map((r) => r.data).sort();
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

test('slice add, update, move to another Service and delete reach the index', async (t) => {
  const client = new FakeClient();
  await client.create(R.services, 'ns', svc('ns', 'a', { clusterIP: 'None' }));
  await client.create(R.services, 'ns', svc('ns', 'b', { clusterIP: 'None' }));
  await client.create(R.endpointslices, 'ns', slice('ns', 'a', 's1', [{ addresses: ['10.1.0.1'] }, { addresses: ['10.1.0.2'] }]));
  const ix = new RecordIndex('cluster.local');
  const feed = new ServiceRecordFeed(client, ix);
  t.after(() => feed.stop());
  await feed.start();
  assert.ok(feed.hasSynced());
  assert.deepEqual(addresses(ix, 'a.ns.svc.cluster.local'), ['10.1.0.1', '10.1.0.2']);

  await client.update(R.endpointslices, 'ns', slice('ns', 'a', 's1', [{ addresses: ['10.1.0.1'], conditions: { ready: false } }, { addresses: ['10.1.0.2'] }]));
  await until(() => addresses(ix, 'a.ns.svc.cluster.local').length === 1);
  assert.deepEqual(addresses(ix, 'a.ns.svc.cluster.local'), ['10.1.0.2']);
  assert.equal(ix.lookup('1.0.1.10.in-addr.arpa'), undefined);

  // The slice's owner label changes: its endpoints leave a and join b.
  await client.update(R.endpointslices, 'ns', slice('ns', 'b', 's1', [{ addresses: ['10.1.0.2'] }]));
  await until(() => addresses(ix, 'b.ns.svc.cluster.local').length === 1);
  assert.deepEqual(addresses(ix, 'b.ns.svc.cluster.local'), ['10.1.0.2']);
  assert.equal(ix.lookup('a.ns.svc.cluster.local'), undefined);
  assert.ok(ix.exists('a.ns.svc.cluster.local'), 'a headless Service without endpoints still exists (NODATA)');
  assert.deepEqual(ix.lookup('2.0.1.10.in-addr.arpa')?.map((r) => r.data), ['10-1-0-2.b.ns.svc.cluster.local']);

  await client.delete(R.endpointslices, 'ns', 's1');
  await until(() => ix.lookup('b.ns.svc.cluster.local') === undefined);
  assert.equal(ix.lookup('b.ns.svc.cluster.local'), undefined);
  await client.delete(R.services, 'ns', 'b');
  await until(() => !ix.exists('b.ns.svc.cluster.local'));
  assert.equal(ix.exists('b.ns.svc.cluster.local'), false);
  assert.equal(ix.lookup('2.0.1.10.in-addr.arpa'), undefined);
});
