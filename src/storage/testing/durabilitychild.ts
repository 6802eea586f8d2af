/**
 * Child process for the kill -9 durability test: opens the SQLite store given as argv[2] and writes
 * keys /d/<pid>/0, /d/<pid>/1, ... forever (creates, plus an update and a delete every few writes), printing
 * `ACK <key> <op> <revision>` after each write has been acknowledged by the storage.
 */
import { SqliteStorage } from '../sqlite.js';

const s = new SqliteStorage(process.argv[2]);
let i = 0;
for (;;) {
  const key = `/d/${process.pid}/${i}`;
  const kv = await s.create(key, JSON.stringify({ i }));
  process.stdout.write(`ACK ${key} create ${kv.modRevision}\n`);
  if (i % 3 === 0) {
    const u = await s.update(key, JSON.stringify({ i, updated: true }));
    process.stdout.write(`ACK ${key} update ${u.modRevision}\n`);
  }
  if (i % 5 === 0) {
    const d = await s.delete(key);
    process.stdout.write(`ACK ${key} delete ${d.revision}\n`);
  }
  i++;
}
