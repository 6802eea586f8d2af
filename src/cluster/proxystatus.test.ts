import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyStatusWriter, proxyStatusPath, readProxyStatus } from './proxystatus.js';
import type { ProxyStatus } from '../proxy/proxy.js';

const status = (syncs: number): ProxyStatus => ({ node: 'n', mode: 'nftables', syncs, failuresSinceSync: 0, lastSyncAt: new Date().toISOString() });

test('the writer throttles but always ends with the latest status', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-ps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'nodes', 'n'), { recursive: true });
  assert.equal(readProxyStatus(dir, 'n'), undefined);
  const w = new ProxyStatusWriter(proxyStatusPath(dir, 'n'), 50);
  w.update(status(1));
  assert.equal(readProxyStatus(dir, 'n')?.syncs, 1, 'the first update is written at once');
  w.update(status(2));
  w.update(status(3));
  assert.equal(readProxyStatus(dir, 'n')?.syncs, 1, 'later ones within the interval wait');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(readProxyStatus(dir, 'n')?.syncs, 3, 'then the latest is written');
  w.update(status(4));
  w.update(status(5));
  w.close();
  assert.equal(readProxyStatus(dir, 'n')?.syncs, 5, 'close writes what is pending');
});
