/**
 * Test harness for the node agent: an API client (the in-process API core when present, else the
 * FakeClient), a node agent with a random cluster id, helpers to create Pods and wait for status,
 * and a leak check (no netns, veth or process of the test left) run at the end of every test.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../api/resources.js';
import type { Client } from '../../client/client.js';
import { FakeClient } from '../../client/testing/fake.js';
import { startNodeAgent, type NodeAgent, type NodeAgentOptions } from '../agent.js';
import { run } from '../exec.js';

/** What a test gets. */
export interface TestNode {
  client: Client;
  agent: NodeAgent;
  opts: NodeAgentOptions;
  id: string;
  /** Creates a Pod bound to this node. */
  createPod(name: string, spec: Pod['spec'], meta?: Pod['metadata']): Promise<Pod>;
  /** Polls the Pod until `pred` holds (returns it) or fails after timeoutMs. */
  waitPod(name: string, pred: (p: Pod) => boolean, timeoutMs?: number): Promise<Pod>;
  /** Runs a command in a Pod through the agent's exec (the PodStreamProvider). */
  exec(name: string, cmd: string[], container?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the agent (removing everything) and asserts nothing is left. Idempotent. */
  shutdown(): Promise<void>;
}

/** An API client: `createApiCore` (src/apiserver/core.ts) when it exists, else the FakeClient. */
export async function apiClient(): Promise<{ client: Client; close(): Promise<void> | void; real: boolean }> {
  const corePath = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../apiserver/core.ts');
  if (fs.existsSync(corePath)) {
    const core = await import(corePath) as { createApiCore(o: unknown): Promise<{ client: Client; close(): Promise<void> | void }> | { client: Client; close(): Promise<void> | void } };
    const storageMod = await import(path.resolve(path.dirname(corePath), '../storage/memory.ts')).catch(() => undefined) as { MemoryStorage?: new () => unknown } | undefined;
    const api = await core.createApiCore({ storage: storageMod?.MemoryStorage ? new storageMod.MemoryStorage() : undefined });
    return { client: api.client, close: () => api.close(), real: true };
  }
  return { client: new FakeClient(), close: () => undefined, real: false };
}

/** Scans /proc for processes whose command line mentions `needle`. */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/** The inode of a named network namespace (`/run/netns/<name>`), or undefined if it is gone. */
export function netnsInode(name: string): number | undefined {
  try { return fs.statSync(`/run/netns/${name}`).ino; } catch { return undefined; }
}

/**
 * Processes whose network namespace is one of `inodes` (namespaces a test had, named with
 * `ownPrefix`). A process that daemonized inside a Pod (setsid: out of the container's process
 * group) shows up here even after the namespace lost its name, and whatever its command line says.
 * The kernel reuses the inode of a freed namespace, so an inode that now belongs to a namespace
 * named otherwise (another test's, another run's) is not ours any more and is skipped.
 */
export function processesInNetns(inodes: ReadonlySet<number>, ownPrefix: string): number[] {
  const out: number[] = [];
  if (inodes.size === 0) return out;
  const ours = new Set(inodes);
  for (const name of fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []) {
    const ino = name.startsWith(ownPrefix) ? undefined : netnsInode(name);
    if (ino !== undefined) ours.delete(ino);
  }
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${d}/ns/net`));
      if (m && ours.has(Number(m[1]))) out.push(Number(d));
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}

/** Starts a node agent for one test; everything is removed (and leak-checked) in t.after. */
export async function startTestNode(t: { after(fn: () => Promise<void> | void): void }, extra: Partial<NodeAgentOptions> = {}): Promise<TestNode> {
  const id = randomBytes(2).toString('hex');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipn-${id}-`));
  const api = await apiClient();
  const client = api.client;
  if (api.real) {
    for (const ns of ['default', 'kube-node-lease']) {
      try { await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }); } catch { /* exists */ }
    }
  }
  const opts: NodeAgentOptions = {
    client, nodeName: `node-${id}`, nodeIndex: 0, netns: `cipt-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipt-${id}`,
    backoffBaseMs: 1000, backoffMaxMs: 8000, probeSecondMs: 200, leaseRenewMs: 1000, ...extra,
  };
  const agent = await startNodeAgent(opts);
  let down = false;
  const tracked = new Set<number>();
  /** Network namespaces of the node and of every Pod seen running: none may keep a process. */
  const trackedNetns = new Set<number>();
  const nodeIno = netnsInode(opts.netns);
  if (nodeIno !== undefined) trackedNetns.add(nodeIno);
  const shutdown = async (): Promise<void> => {
    if (down) return;
    down = true;
    try { await agent.stop(); } catch (e) { console.error('agent.stop failed:', e); }
    try { await api.close(); } catch { /* closing anyway */ }
    // Leak check: no namespace, process or veth of this test remains.
    const netns = (await run(['ip', 'netns', 'list'])).stdout;
    const leftNs = netns.split('\n').filter((l) => l.startsWith(`cipt-${id}`));
    const alive = (p: number): boolean => { try { process.kill(p, 0); return true; } catch { return false; } };
    const leftProcs = [...new Set([...processesMentioning(stateDir), ...[...tracked].filter(alive), ...processesInNetns(trackedNetns, `cipt-${id}`)])];
    for (const n of leftNs) await run(['ip', 'netns', 'delete', n.split(' ')[0]!]);
    for (const p of leftProcs) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(leftNs, [], 'network namespaces leaked');
    assert.deepEqual(leftProcs, [], 'processes leaked');
  };
  t.after(shutdown);
  const node: TestNode = {
    client, agent, opts, id, shutdown,
    async createPod(name, spec, meta = {}) {
      return client.create<Pod>(R.pods, 'default', {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name, namespace: 'default', uid: api.real ? undefined : `${id}-${name}-${randomBytes(4).toString('hex')}`, ...meta },
        spec: { nodeName: opts.nodeName, ...spec! },
      });
    },
    async waitPod(name, pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Pod | undefined;
      while (Date.now() < deadline) {
        try { last = await client.get<Pod>(R.pods, 'default', name); } catch { last = undefined; }
        if (last && pred(last)) {
          const w = agent.worker('default', name);
          if (w?.sandbox) {
            tracked.add(w.sandbox.holderPid);
            const ino = netnsInode(w.sandbox.netns);
            if (ino !== undefined) trackedNetns.add(ino);
          }
          return last;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`pod ${name} did not reach the expected state; last status: ${JSON.stringify(last?.status)}`);
    },
    async exec(name, cmd, container) {
      const s = await agent.exec('default', name, { command: cmd, container, stdin: false, stdout: true, stderr: true, tty: false });
      let stdout = '', stderr = '';
      s.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
      s.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      const r = await s.result;
      await new Promise((res) => setImmediate(res));
      return { code: 'exitCode' in r ? r.exitCode : -1, stdout, stderr };
    },
  };
  return node;
}

/** True when the Pod's Ready condition is True. */
export function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The named container's status. */
export function cstatus(p: Pod, name: string) {
  return p.status?.containerStatuses?.find((c) => c.name === name);
}
