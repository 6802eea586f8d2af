/**
 * What listens inside a network namespace, and whether a Service's target port is served by it.
 * Listening sockets are the live truth a containerPort declaration is not: Kubernetes treats
 * `containerPort` as informational, so a number nobody declared can still work and a declared one
 * can be dead. Read with `ss -Hltune -N <netns>` (netlink sock_diag, per namespace; ss enters the
 * namespace itself), all namespaces in one shell. Not /proc/<pid>/net/tcp: reading it walks the
 * machine-wide socket hash tables, 2–4 ms per file on a busy machine, more than an ss run. The owner
 * of each socket is the process holding its inode, looked for among the namespace's own processes
 * (`ss -p` would read the descriptors of every process on the machine, per namespace).
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { runCommand } from './exec.js';
import type { ListenerView } from './types.js';

export type Listener = ListenerView & { pids: number[]; inode?: number };

/** Parses `ss -Hltun[p][e]` lines: `tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=1,fd=4))` or `... ino:695064 ...`. */
export function parseSs(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || (f[0] !== 'tcp' && f[0] !== 'udp')) continue;
    const local = f[4]!;
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    let address = local.slice(0, colon).replace(/^\[|\]$/g, '');
    address = address.replace(/%.*$/, '');
    if (address === '*') address = '0.0.0.0';
    const port = Number(local.slice(colon + 1));
    if (!Number.isInteger(port)) continue;
    const users = line.slice(line.indexOf('users:') >= 0 ? line.indexOf('users:') : line.length);
    const process = /\(\("([^"]+)"/.exec(users)?.[1];
    const pids = [...users.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    const ino = /\bino:(\d+)/.exec(line)?.[1];
    out.push({ protocol: f[0] === 'tcp' ? 'TCP' : 'UDP', address, port, ...(process ? { process } : {}), pids, ...(ino && ino !== '0' ? { inode: Number(ino) } : {}) });
  }
  return out;
}

/** Loopback-only sockets cannot be reached at the Pod IP. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** Whether `listeners` serve `port`/`protocol` from outside the Pod (yes), only on loopback, or not at all. */
export function listeningOn(listeners: readonly ListenerView[], port: number, protocol: string): { state: 'yes' | 'no' | 'loopback'; matches: ListenerView[] } {
  const matches = listeners.filter((l) => l.port === port && l.protocol === protocol);
  if (matches.length === 0) return { state: 'no', matches };
  return { state: matches.some((l) => !isLoopback(l.address)) ? 'yes' : 'loopback', matches };
}

/** Every process by the network namespace it is in (`net:[<inode>]` → pids): one pass over /proc. */
function processesByNetns(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let ns: string;
    try { ns = readlinkSync(`/proc/${pid}/ns/net`); } catch { continue; }
    let l = out.get(ns);
    if (!l) out.set(ns, l = []);
    l.push(Number(pid));
  }
  return out;
}

/** Fills in `process` and `pids` of listeners from the processes of their namespace. */
function ownProcesses(byNetns: Map<string, Listener[] | Error>, procs: Map<string, number[]>): void {
  for (const [netns, listeners] of byNetns) {
    if (listeners instanceof Error || listeners.every((l) => l.inode === undefined)) continue;
    let ino: number;
    try { ino = statSync(`/run/netns/${netns}`).ino; } catch { continue; }
    const byInode = new Map(listeners.filter((l) => l.inode !== undefined).map((l) => [`socket:[${l.inode}]`, l]));
    for (const pid of procs.get(`net:[${ino}]`) ?? []) {
      let fds: string[];
      try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
      for (const fd of fds) {
        let target: string;
        try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
        const l = byInode.get(target);
        if (!l) continue;
        if (!l.pids.includes(pid)) l.pids.push(pid);
        if (!l.process) { try { l.process = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { /* gone */ } }
      }
    }
  }
}

/** `ss -Hltune -N` for each namespace, one shell for all of them. */
async function readWithSs(netnsList: readonly string[], result: Map<string, Listener[] | Error>, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  if (netnsList.length === 0) return;
  // Each namespace's output is framed by "@@ <ns>" and "@@rc <exit code>".
  const script = netnsList.map((n) => `echo "@@ ${n}"; ss -Hltune -N ${n} 2>&1; echo "@@rc $?"`).join('; ');
  const r = await runCommand(['sh', '-c', script], { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5000 });
  let cur: string | undefined;
  let buf: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('@@ ')) { cur = line.slice(3); buf = []; continue; }
    if (line.startsWith('@@rc ') && cur !== undefined) {
      const text = buf.filter((l) => !l.startsWith('Failed to find cgroup2')).join('\n');
      result.set(cur, line === '@@rc 0' ? parseSs(text) : new Error(`cannot read sockets in network namespace ${cur}: ${text.trim() || 'ss failed'}`));
      cur = undefined;
      continue;
    }
    buf.push(line);
  }
  for (const n of netnsList) if (!result.has(n)) result.set(n, new Error(`cannot read sockets in network namespace ${n}: ${r.stderr.trim() || 'no answer'}`));
}

/** Reads the listeners of several namespaces. Unreadable ones map to an Error. */
export async function readListeners(netnsList: readonly string[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Map<string, Listener[] | Error>> {
  const result = new Map<string, Listener[] | Error>();
  const unique = [...new Set(netnsList)].filter((n) => /^[A-Za-z0-9_.-]+$/.test(n));
  if (unique.length === 0) return result;
  await readWithSs(unique, result, opts);
  ownProcesses(result, processesByNetns());
  return result;
}
