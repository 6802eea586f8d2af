/**
 * What listens inside a network namespace, and whether a Service's target port is served by it.
 * Listening sockets are the live truth a containerPort declaration is not: Kubernetes treats
 * `containerPort` as informational, so a number nobody declared can still work and a declared one
 * can be dead. TCP: `ss -Htne -N <netns> state listening` (netlink sock_diag; ss enters the
 * namespace itself), all namespaces in one shell. `state listening` and not `-l`: `-l` asks
 * for LISTEN and CLOSE, and a TCP dump with any state besides LISTEN makes the kernel walk the whole
 * machine-wide established-connection hash table, twice (v4, v6): ~4 ms of system time per
 * namespace here. Not /proc/<pid>/net/tcp: reading it walks that table too (~4 ms per file). UDP:
 * /proc/<pid>/net/udp and udp6 of a process in the namespace, read in this process (~0.1 ms each:
 * the UDP table is small), with `ss -Hlune` only for a namespace without processes. The owner of
 * each socket is the process holding its inode, looked for among the namespace's own processes
 * (`ss -p` would read the descriptors of every process on the machine, per namespace).
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { runCommand } from './exec.js';
import type { ListenerView } from './types.js';

export type Listener = ListenerView & { pids: number[]; inode?: number };

/**
 * Parses ss lines: `tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=1,fd=4))` or `... ino:695064 ...`
 * (`ss -Hltun[p][e]`), or, with `protocol` given, the lines of one protocol where ss leaves out the
 * Netid column and, for one state, the State column (`ss -Htne state listening`: `0 511 0.0.0.0:80 0.0.0.0:* ino:...`).
 */
export function parseSs(text: string, protocol?: 'TCP' | 'UDP'): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const proto = f[0] === 'tcp' ? 'TCP' : f[0] === 'udp' ? 'UDP' : protocol;
    if (!proto) continue;
    // The local address is the first of the two address:port fields (local, peer).
    const at = f.findIndex((x, i) => i < f.length - 1 && x.includes(':') && f[i + 1]!.includes(':') && !x.startsWith('users:') && !x.startsWith('ino:'));
    if (at < 0) continue;
    const local = f[at]!;
    const colon = local.lastIndexOf(':');
    let address = local.slice(0, colon).replace(/^\[|\]$/g, '');
    address = address.replace(/%.*$/, '');
    if (address === '*') address = '0.0.0.0';
    const port = Number(local.slice(colon + 1));
    if (!Number.isInteger(port) || local.slice(colon + 1) === '') continue;
    const users = line.slice(line.indexOf('users:') >= 0 ? line.indexOf('users:') : line.length);
    const process = /\(\("([^"]+)"/.exec(users)?.[1];
    const pids = [...users.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    const ino = /\bino:(\d+)/.exec(line)?.[1];
    out.push({ protocol: proto, address, port, ...(process ? { process } : {}), pids, ...(ino && ino !== '0' ? { inode: Number(ino) } : {}) });
  }
  return out;
}

/** An address of /proc/net/udp[6]: hex, each 32-bit word in host (little-endian) byte order. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().map((b) => parseInt(b, 16)));
  if (words.length === 1) return words[0]!.join('.');
  const bytes = words.flat();
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1); // the shortest form, as ss prints it
}

/**
 * Parses /proc/<pid>/net/udp or udp6: the sockets ss -l shows for UDP (state 07, unconnected), with
 * their inode. (A dual-stack wildcard socket is `::` here where ss writes `*`.)
 */
export function parseProcNetUdp(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!/^\d+:$/.test(f[0] ?? '') || f[3] !== '07') continue;
    const [hex, port] = f[1]!.split(':');
    if (!hex || !port || (hex.length !== 8 && hex.length !== 32)) continue;
    const inode = Number(f[9]);
    out.push({ protocol: 'UDP', address: procAddress(hex), port: parseInt(port, 16), pids: [], ...(inode ? { inode } : {}) });
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

/** The UDP sockets of a namespace from the /proc/<pid>/net files of one of its processes; undefined when none could be read. */
function udpFromProc(pids: readonly number[]): Listener[] | undefined {
  for (const pid of pids.slice(0, 3)) {
    try {
      return [...parseProcNetUdp(readFileSync(`/proc/${pid}/net/udp`, 'utf8')), ...parseProcNetUdp(readFileSync(`/proc/${pid}/net/udp6`, 'utf8'))];
    } catch { /* gone: the next one */ }
  }
  return undefined;
}

/**
 * `ss` for each namespace — TCP in state listening, and UDP where /proc had no process to read it
 * from — all in one shell (each process started costs the caller a fork, 2–7 ms of its own thread
 * with a large heap), each namespace's output framed by "@@ <ns>" and "@@rc <exit codes>".
 */
async function readWithSs(netnsList: readonly string[], udp: Map<string, Listener[]>, result: Map<string, Listener[] | Error>, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  if (netnsList.length === 0) return;
  const script = netnsList.map((n) =>
    `echo "@@ ${n}"; ss -Htne -N ${n} state listening 2>&1; t=$?; echo "@@udp"; ${udp.has(n) ? 'true' : `ss -Hlune -N ${n} 2>&1`}; echo "@@rc $t $?"`).join('; ');
  const r = await runCommand(['sh', '-c', script], { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5000 });
  const clean = (l: string[]) => l.filter((x) => !x.startsWith('Failed to find cgroup2')).join('\n');
  let cur: string | undefined;
  let tcpLines: string[] = [];
  let udpLines: string[] | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('@@ ')) { cur = line.slice(3); tcpLines = []; udpLines = undefined; continue; }
    if (line === '@@udp') { udpLines = []; continue; }
    if (line.startsWith('@@rc ') && cur !== undefined) {
      // ss -ltu's order: UDP, then TCP.
      result.set(cur, line === '@@rc 0 0'
        ? [...(udp.get(cur) ?? parseSs(clean(udpLines ?? []), 'UDP')), ...parseSs(clean(tcpLines), 'TCP')]
        : new Error(`cannot read sockets in network namespace ${cur}: ${(clean(tcpLines) + '\n' + clean(udpLines ?? [])).trim() || 'ss failed'}`));
      cur = undefined;
      continue;
    }
    (udpLines ?? tcpLines).push(line);
  }
  for (const n of netnsList) if (!result.has(n)) result.set(n, new Error(`cannot read sockets in network namespace ${n}: ${r.stderr.trim() || 'no answer'}`));
}

/** Reads the listeners of several namespaces. Unreadable ones map to an Error. */
export async function readListeners(netnsList: readonly string[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Map<string, Listener[] | Error>> {
  const result = new Map<string, Listener[] | Error>();
  const unique = [...new Set(netnsList)].filter((n) => /^[A-Za-z0-9_.-]+$/.test(n));
  if (unique.length === 0) return result;
  const procs = processesByNetns();
  const udp = new Map<string, Listener[]>();
  for (const n of unique) {
    let ino: number;
    try { ino = statSync(`/run/netns/${n}`).ino; } catch { continue; }
    const l = udpFromProc(procs.get(`net:[${ino}]`) ?? []);
    if (l) udp.set(n, l);
  }
  await readWithSs(unique, udp, result, opts);
  ownProcesses(result, procs);
  return result;
}
