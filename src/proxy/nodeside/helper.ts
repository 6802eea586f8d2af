/**
 * The proxy's side of `helper.mjs`, its process inside the node namespace (health-check servers,
 * userspace-mode listeners). One request at a time, answered in order. The process is started on
 * the first request and supervised: when it dies, the next request starts a new one and first
 * re-sends the whole last state (listeners are sockets: a new process must open them again), so a
 * crash costs the open connections, never the configuration.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { NetnsSpawn } from '../exec.js';
import { ProxyError } from '../errors.js';

/** One healthCheckNodePort and what it answers. */
export interface HealthEntry { port: number; namespace: string; name: string; localEndpoints: number }

/** One userspace listener: a Service port and where its connections go. */
export interface ListenerSpec {
  /** `ns/name:portName/PROTO`. */
  key: string;
  protocol: 'TCP' | 'UDP';
  /** Port the listener binds on 0.0.0.0 in the node namespace. */
  port: number;
  endpoints: [string, number][];
  affinitySeconds?: number;
}

/** Where helper.mjs is, in the source tree (tsx) or next to the bundle's chunks (dist/), as the node agent's helpers. */
export function helperPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const own = join(here, 'helper.mjs');
  if (existsSync(own)) return own;
  // From dist/proxy/nodeside (the bundle's view of this file) the project root is three up; the
  // sources ship beside dist (package.json "files").
  return resolve(here, '..', '..', '..', 'src', 'proxy', 'nodeside', 'helper.mjs');
}

const REPLY_TIMEOUT_MS = 30_000;

export class NodeHelper {
  private child?: ChildProcessWithoutNullStreams;
  private lines?: AsyncIterator<string>;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lastHealth?: { health: HealthEntry[]; healthy: boolean };
  private lastListeners?: ListenerSpec[];
  /** Restarts so far (a new process after a crash). */
  restarts = 0;

  constructor(private readonly spawn: NetnsSpawn) {}

  /** Sets every healthCheckNodePort at once; resolves with the ports that could not be opened. */
  setHealth(health: HealthEntry[], healthy = true): Promise<string[]> {
    return this.enqueue(async () => {
      this.lastHealth = { health, healthy };
      return this.request({ health, healthy });
    });
  }

  /** Sets every userspace listener at once; resolves with the listeners that could not be opened. */
  setListeners(listeners: ListenerSpec[]): Promise<string[]> {
    return this.enqueue(async () => {
      this.lastListeners = listeners;
      return this.request({ listeners });
    });
  }

  /** Ends the process: its listeners close with it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    const exited = new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) r();
      else child.once('close', () => r());
    });
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  /** The helper process's pid (tests kill it to see it come back). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async request(msg: Record<string, unknown>): Promise<string[]> {
    if (this.closed) throw new ProxyError('PROXY_STOPPED', 'node helper closed');
    if (!this.child) await this.start();
    return this.roundTrip(msg);
  }

  private async start(): Promise<void> {
    const child = this.spawn([process.execPath, helperPath()]);
    this.child = child;
    child.stdin.on('error', () => { /* died: 'close' reports it */ });
    child.on('error', () => undefined);
    child.on('close', () => { if (this.child === child) { this.child = undefined; this.lines = undefined; } });
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await this.nextLine();
    if (!/"ready"/.test(first)) throw new ProxyError('KERNEL_COMMAND_FAILED', `node helper did not start: ${first.slice(0, 500)}`);
    if (this.restarts++ > 0 || this.lastHealth || this.lastListeners) {
      // A new process after a crash: it has none of the sockets the last one had.
      const errors: string[] = [];
      if (this.lastHealth) errors.push(...await this.roundTrip({ ...this.lastHealth }));
      if (this.lastListeners) errors.push(...await this.roundTrip({ listeners: this.lastListeners }));
      if (errors.length) console.error(`proxy node helper restarted: ${errors.join('; ')}`);
    }
  }

  private async roundTrip(msg: Record<string, unknown>): Promise<string[]> {
    const child = this.child;
    if (!child) throw new ProxyError('KERNEL_COMMAND_FAILED', 'node helper is not running');
    const id = this.nextId++;
    child.stdin.write(`${JSON.stringify({ ...msg, id })}\n`);
    for (;;) {
      const line = await this.nextLine();
      let reply: { id?: number; errors?: string[] };
      try { reply = JSON.parse(line) as typeof reply; } catch { continue; }
      if (reply.id === id) return reply.errors ?? [];
    }
  }

  private async nextLine(): Promise<string> {
    const lines = this.lines;
    if (!lines) throw new ProxyError('KERNEL_COMMAND_FAILED', 'node helper is not running');
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        lines.next(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ProxyError('KERNEL_COMMAND_FAILED', `node helper did not answer within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS); }),
      ]);
      if (r.done) {
        this.child = undefined;
        this.lines = undefined;
        throw new ProxyError('KERNEL_COMMAND_FAILED', 'node helper exited');
      }
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  }
}
