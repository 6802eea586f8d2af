import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { SqliteStorage } from './sqlite.js';
import { runStorageConformance } from './testing/conformance.js';

runStorageConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-sqlite-'));
  return { storage: new SqliteStorage(join(dir, 'state.db'), { historySize: 1000 }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

it('sqlite: data and revision survive close/reopen; deletes count', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.db');
  const s1 = new SqliteStorage(path);
  await s1.create('/a', '1');
  await s1.create('/b', '2');
  await s1.delete('/b');
  const rev = s1.revision();
  await s1.close();
  const s2 = new SqliteStorage(path);
  t.after(() => s2.close());
  assert.equal(s2.revision(), rev);
  assert.equal((await s2.get('/a'))!.value, '1');
  assert.equal(await s2.get('/b'), undefined);
  const c = await s2.create('/c', '3');
  assert.equal(c.modRevision, rev + 1);
});
