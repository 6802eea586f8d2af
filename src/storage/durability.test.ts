import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStorage } from './sqlite.js';

const child = fileURLToPath(new URL('./testing/durabilitychild.ts', import.meta.url));

/** Runs the writer child, SIGKILLs it after `ms`, returns the acknowledged operations. */
async function runAndKill(db: string, ms: number): Promise<{ key: string; op: string; rev: number }[]> {
  const p = spawn(process.execPath, ['--import', 'tsx', child, db], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  try {
    // Wait for the first ack so the kill lands mid-stream, then a random extra delay.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (out.includes('ACK')) { clearInterval(check); resolve(); } }, 5);
    });
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    p.kill('SIGKILL');
    await exited;
  }
  return out.split('\n').filter((l) => l.startsWith('ACK ')).map((l) => {
    const [, key, op, rev] = l.split(' ');
    return { key, op, rev: Number(rev) };
  });
}

it('sqlite: every acknowledged write survives kill -9, and the revision keeps increasing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cip-kill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'state.db');
  let lastRev = 0;
  for (let round = 0; round < 3; round++) {
    const acks = await runAndKill(db, 50 + Math.floor(Math.random() * 250));
    assert.ok(acks.length > 10, `only ${acks.length} acks`);
    const s = new SqliteStorage(db);
    try {
      // Final acknowledged state of each key.
      const state = new Map<string, string>();
      for (const a of acks) state.set(a.key, a.op);
      // The write in flight at the kill may have committed without its ACK reaching us, so the
      // last acknowledged key may also be in the state of the child's next operation on it.
      const lastKey = acks[acks.length - 1].key;
      for (const [key, op] of state) {
        const kv = await s.get(key);
        if (key === lastKey && kv === undefined && op !== 'delete' && Number(key.split('/').pop()) % 5 === 0) continue;
        if (key === lastKey && op === 'create' && kv && JSON.parse(kv.value).updated === true) continue;
        if (op === 'delete') assert.equal(kv, undefined, `${key} was deleted`);
        else {
          assert.ok(kv, `${key} (${op}) acknowledged but missing after kill -9`);
          if (op === 'update') assert.equal(JSON.parse(kv.value).updated, true);
        }
      }
      const maxAck = Math.max(...acks.map((a) => a.rev));
      assert.ok(s.revision() >= maxAck, `revision ${s.revision()} < acknowledged ${maxAck}`);
      assert.ok(s.revision() > lastRev, 'revision increases across restarts');
      lastRev = s.revision();
      const after = await s.create(`/round/${round}`, 'x');
      assert.equal(after.modRevision, lastRev + 1);
      lastRev = after.modRevision;
    } finally {
      await s.close();
    }
  }
});
