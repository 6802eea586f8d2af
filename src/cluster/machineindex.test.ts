import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entryState, indexDir, listEntries, readEntry, registerRunning, registerStarting, registerStopped, writeEntry } from './machineindex.js';
import type { ClusterRecord } from './state.js';
import { processIdentity } from '../sys/process.js';

test('entries follow a daemon: starting, running, stopped; a killed daemon reads as crashed; gone state dirs are dropped', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cip-index-'));
  const saved = process.env.CLUSTERIP_STATE_ROOT;
  process.env.CLUSTERIP_STATE_ROOT = root;
  t.after(async () => { process.env.CLUSTERIP_STATE_ROOT = saved; await rm(root, { recursive: true, force: true }); });
  assert.equal(indexDir(), join(root, 'index.d'));
  assert.deepEqual(listEntries(), []);

  const stateDir = join(root, 'elsewhere', 'a');
  mkdirSync(stateDir, { recursive: true });
  registerStarting('a', stateDir, 'id-a');
  assert.equal(entryState(readEntry('a')!), 'starting');
  registerRunning(stateDir, { name: 'a', id: 'id-a', apiURL: 'https://127.0.0.1:1234', nodes: 2, proxyMode: 'iptables' } as ClusterRecord);
  assert.deepEqual(listEntries().map(({ entry, state }) => [entry.name, state, entry.pid, entry.stateDir, entry.apiURL, entry.nodes, entry.proxyMode]),
    [['a', 'running', process.pid, stateDir, 'https://127.0.0.1:1234', 2, 'iptables']]);
  registerStopped('a');
  assert.equal(entryState(readEntry('a')!), 'stopped');
  assert.equal(readEntry('a')!.pid, undefined);

  // A daemon killed with -9 leaves its entry; the recorded process is gone, so it reads as crashed.
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const id = processIdentity(child.pid!)!;
  const bDir = join(root, 'b');
  mkdirSync(bDir);
  writeEntry({ name: 'b', stateDir: bDir, id: 'id-b', phase: 'running', pid: id.pid, pidStartTime: id.startTime, bootId: id.bootId, updatedAt: new Date().toISOString() });
  assert.equal(entryState(readEntry('b')!), 'running');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.equal(entryState(readEntry('b')!), 'crashed');
  // The same pid with another start time (a re-used pid) is not the daemon either.
  writeEntry({ ...readEntry('b')!, pid: process.pid, pidStartTime: '1' });
  assert.equal(entryState(readEntry('b')!), 'crashed');

  // Dead entries whose state directory is gone are dropped; live or present ones stay.
  await rm(bDir, { recursive: true });
  assert.deepEqual(listEntries().map(({ entry, state }) => `${entry.name}:${state}`), ['a:stopped']);
  assert.equal(existsSync(join(indexDir(), 'b.json')), false);
});
