/**
 * The flow collector of one node network namespace (thin executor; the decisions are in
 * flowsparse.ts and flowsclassify.ts). Inside the node namespace it:
 *
 * - sets `net.netfilter.nf_conntrack_acct=1` (per namespace), so conntrack counts bytes and packets;
 * - owns `table ip clusterip-flows`:
 *   - a nat chain at prerouting priority -99 (after the proxy's DNAT at -100, before its rejects
 *     at -90) that sets `nftrace` on new connections still addressed to the Service CIDR — only
 *     packets the proxy is about to reject or drop: the kernel does not even call it for a
 *     connection the proxy DNATed (once a nat chain set up a binding the later ones are skipped),
 *     nor for any packet but a connection's first — so `nft monitor trace` shows the kernel
 *     refusing them (conntrack never sees them: an unconfirmed connection leaves no event); and a
 *     filter chain at output priority -111 for the node's own connections (the proxy rejects those
 *     at -110, before DNAT, so all are traced there; only the node's own packets pass it);
 *   - the counter `svc-new`: connections to the Service CIDR the kernel confirmed (`ct state new
 *     ct status ! confirmed` in postrouting and input: the first packet, exactly once per
 *     connection; an ICMP error about a rejected one is `related`, not counted), to count events
 *     the netlink socket dropped instead of losing them silently. Its chains are `type nat`, at
 *     priority 99 (before the proxy's source NAT at 100): the kernel calls nat chains only for the
 *     first packet of a connection, from the NAT hook the proxy's masquerade chain already needs,
 *     where a filter chain there was a hook more on every packet of every connection (measured in
 *     bench/inspect/flows: ~3 % of the requests/s of one-request connections). Before the proxy's
 *     chain, because once a nat chain set up source NAT the later ones are not called;
 * - runs `conntrack -E -e NEW -o id -d <serviceCIDR>` (the kernel filters the events: only
 *   connections to Service addresses reach the tool) and `nft monitor trace`. NEW events only:
 *   at thousands of connections a second every event costs CPU in the kernel, the tool and here,
 *   and DESTROY would double it for what `flows` without -f reads anyway from `conntrack -L`
 *   (state, bytes and packets of every connection still tracked, TIME_WAIT included);
 *
 * Load shedding: every event costs CPU in the kernel, in the conntrack tool (~13 µs), here and in
 * every reader (~30-50 µs together, measured in bench/inspect), so at ten thousand connections a
 * second showing each one would take half of a 2-core machine from the traffic it shows. When a
 * node's rate passes `maxRate` (2000/s by default) the conntrack tool is stopped for 2 s — with no
 * listener the kernel makes no events at all — and the connections made meanwhile are counted by
 * the kernel counter and reported as not shown ("above the rate limit"), never silently lost.
 *
 * Both tools are restarted (with backoff) if they exit. Nothing here touches another namespace, the
 * proxy's table, or anything but the table above and the one sysctl. `stop()` deletes the table.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { parseConntrackLine, TraceAssembler, type ConntrackEvent, type TracedRefusal } from './flowsparse.js';

/** Owned table in each node namespace. */
export const FLOWS_TABLE = 'clusterip-flows';
/** Netlink receive buffer for the event socket (the kernel doubles it): room for ~10k events/s bursts. */
const EVENT_BUFFER_BYTES = 8 << 20;

/** Above this many new connections a second per node, events are shed (see NodeFlowCollector). */
export const DEFAULT_MAX_RATE = 2000;
/** How long the event tool stays stopped when shedding: doubling while the rate stays high, to 30 s. */
const SHED_MS = 2000;
const SHED_MAX_MS = 30_000;
/** The window the rate is measured over. */
const RATE_WINDOW_MS = 100;

export interface CollectorEvents {
  /** A NEW event of a connection to a Service address. */
  onConntrack(ev: ConntrackEvent, at: number): void;
  /** A packet to a Service address that the kernel rejected or dropped. */
  onRefused(r: TracedRefusal, at: number): void;
  /** The event socket overflowed (events lost; the counter reconciliation says how many). */
  onOverrun?(): void;
  /** Status changes (started, a tool failed, what is missing). */
  onStatus?(ok: boolean, missing?: string): void;
  /** Shedding started (`true`) or ended; the hub counts the connections the kernel made meanwhile. */
  onShed?(shedding: boolean): void;
}

export interface NodeCollectorOptions {
  node: string;
  netns: string;
  serviceCIDR: string;
  events: CollectorEvents;
  /** New connections a second above which events are shed for a while. Default DEFAULT_MAX_RATE. */
  maxRate?: number;
}

const now = (): number => performance.timeOrigin + performance.now();

function run(argv: string[], input?: string, timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && !stderr ? err.message : '')) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * What is missing, in words a user can act on, from a tool's failure output (pure).
 * undefined when the text names nothing we recognise.
 */
export function missingFrom(tool: 'conntrack' | 'nft', stderr: string, code: number): string {
  const t = stderr.toLowerCase();
  if (code === 127 || /no such file or directory|not found|enoent/.test(t) && !/netlink/.test(t)) {
    return tool === 'conntrack' ? 'the conntrack tool (Debian package conntrack: apt-get install conntrack)' : 'the nft tool (Debian package nftables)';
  }
  if (/operation not permitted|permission denied/.test(t)) return `permission: ${tool} needs CAP_NET_ADMIN (run clusterip as root)`;
  if (/protocol not supported|can't open handler|cannot open netlink|address family not supported/.test(t)) {
    return tool === 'conntrack' ? 'conntrack events: the kernel module nf_conntrack_netlink is not loaded (modprobe nf_conntrack_netlink)' : 'nftables tracing: the kernel module nf_tables is not loaded';
  }
  return `${tool} failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`;
}

/** The nft table this collector owns (text for `nft -f`). */
export function flowsTable(serviceCIDR: string): string {
  return [
    `table ip ${FLOWS_TABLE} {`,
    '  counter svc-new { }',
    '  chain refused-trace {',
    '    type nat hook prerouting priority -99; policy accept;',
    `    ip daddr ${serviceCIDR} ct state new meta nftrace set 1`,
    '  }',
    '  chain refused-trace-local {',
    '    type filter hook output priority -111; policy accept;',
    `    ip daddr ${serviceCIDR} ct state new meta nftrace set 1`,
    '  }',
    '  chain count-post {',
    '    type nat hook postrouting priority 99; policy accept;',
    `    ct state new ct status ! confirmed ct original ip daddr ${serviceCIDR} counter name "svc-new"`,
    '  }',
    '  chain count-in {',
    '    type nat hook input priority 99; policy accept;',
    `    ct state new ct status ! confirmed ct original ip daddr ${serviceCIDR} counter name "svc-new"`,
    '  }',
    '}',
  ].join('\n') + '\n';
}

/** Splits a stream into lines and calls `fn` per line. */
function lines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
      fn(text.slice(start, i));
      start = i + 1;
    }
    rest = text.slice(start);
  });
}

export class NodeFlowCollector {
  readonly node: string;
  private readonly children = new Set<ChildProcess>();
  private readonly traces = new TraceAssembler();
  private stopped = false;
  private status: { ok: boolean; missing?: string } = { ok: false, missing: 'not started' };
  private readonly restartDelay = { conntrack: 1000, nft: 1000 };
  private windowStart = 0;
  private windowEvents = 0;
  private shedding = false;
  private shedMs = SHED_MS;
  private resumedAt = 0;
  private conntrack?: ChildProcess;

  constructor(private readonly opts: NodeCollectorOptions) {
    this.node = opts.node;
  }

  get ok(): boolean {
    return this.status.ok;
  }

  get missing(): string | undefined {
    return this.status.missing;
  }

  private netns(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.opts.netns, ...argv];
  }

  private setStatus(ok: boolean, missing?: string): void {
    this.status = { ok, ...(missing ? { missing } : {}) };
    this.opts.events.onStatus?.(ok, missing);
  }

  /** Sets up the table and starts both tools; resolves once they run (or with ok=false and what is missing). */
  async start(): Promise<void> {
    // Independent steps run side by side: this start is on the path of `clusterip up` (and of the
    // recovery after a crash), and one after another they took about a second.
    const tools = ['conntrack', 'nft'] as const;
    const [versions, acct] = await Promise.all([
      Promise.all(tools.map((tool) => run([tool, '--version']))),
      run(this.netns(['sysctl', '-qw', 'net.netfilter.nf_conntrack_acct=1'])),
    ]);
    const absent = versions.findIndex((r) => r.code !== 0);
    if (absent >= 0) { this.setStatus(false, missingFrom(tools[absent]!, versions[absent]!.stderr, versions[absent]!.code)); return; }
    if (acct.code !== 0) { this.setStatus(false, `cannot enable conntrack accounting in ${this.opts.netns}: ${acct.stderr.trim()}`); return; }
    // One transaction replaces the table an earlier run may have left (add, then delete, then the
    // table again: a delete of a table that does not exist would fail the whole transaction).
    const table = await run(this.netns(['nft', '-f', '-']), `add table ip ${FLOWS_TABLE}\ndelete table ip ${FLOWS_TABLE}\n${flowsTable(this.opts.serviceCIDR)}`);
    if (table.code !== 0) { this.setStatus(false, missingFrom('nft', table.stderr, table.code)); return; }
    // Both tools start together. Their start is on `up`'s path, so it is not held for a grace
    // period: a tool that dies at once is reported (status, `flows` says what is missing) and
    // restarted with backoff like one that dies later.
    const [ct, tr] = await Promise.all([this.spawnTool('conntrack'), this.spawnTool('nft')]);
    if (ct && tr) this.setStatus(true);
  }

  /** Starts one tool; resolves true once it runs, false (status set) if it could not be started. */
  private spawnTool(tool: 'conntrack' | 'nft'): Promise<boolean> {
    const argv = tool === 'conntrack'
      ? ['conntrack', '-E', '-o', 'id', '-e', 'NEW', '-d', this.opts.serviceCIDR, '-b', String(EVENT_BUFFER_BYTES)]
      : ['nft', 'monitor', 'trace'];
    const child = spawn('ip', this.netns(argv).slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    let stderr = '';
    const ev = this.opts.events;
    if (tool === 'conntrack') {
      this.conntrack = child;
      lines(child.stdout!, (line) => {
        const e = parseConntrackLine(line);
        if (!e) return;
        const t = now();
        ev.onConntrack(e, t);
        this.countRate(t);
      });
    } else {
      lines(child.stdout!, (line) => {
        const t = now();
        const r = this.traces.line(line, t);
        if (r) ev.onRefused(r, t);
      });
    }
    lines(child.stderr!, (line) => {
      if (/ENOBUFS/.test(line)) { ev.onOverrun?.(); return; }
      if (/NOTICE|flow events have been shown/.test(line) || line.trim() === '') return;
      stderr += line + '\n';
    });
    return new Promise((resolve) => {
      let settled = false;
      child.once('spawn', () => { settled = true; resolve(true); });
      child.on('error', (e) => { stderr += e.message; });
      child.on('exit', (code) => {
        this.children.delete(child);
        if (this.stopped || (child as { shed?: boolean }).shed) { if (!settled) resolve(false); return; }
        const missing = missingFrom(tool, stderr, code ?? 1);
        if (!settled) { settled = true; this.setStatus(false, missing); resolve(false); return; }
        // It ran and died: report, then restart with backoff (doubling to 30 s, reset after a good run).
        this.setStatus(false, missing);
        const delay = this.restartDelay[tool];
        this.restartDelay[tool] = Math.min(delay * 2, 30_000);
        setTimeout(() => {
          if (this.stopped) return;
          void this.spawnTool(tool).then((ok) => {
            if (ok && this.children.size === 2) { this.restartDelay[tool] = 1000; this.setStatus(true); }
          });
        }, delay).unref();
      });
    });
  }

  /** Counts one event; past `maxRate` in the current window, stops the event tool for SHED_MS. */
  private countRate(t: number): void {
    if (t - this.windowStart >= RATE_WINDOW_MS) { this.windowStart = t; this.windowEvents = 0; }
    this.windowEvents++;
    if (this.shedding || this.windowEvents <= ((this.opts.maxRate ?? DEFAULT_MAX_RATE) * RATE_WINDOW_MS) / 1000) return;
    const child = this.conntrack;
    if (!child) return;
    // Still too fast right after the last pause: pause twice as long (to 30 s); calm for a while: reset.
    this.shedMs = t - this.resumedAt < 1000 ? Math.min(this.shedMs * 2, SHED_MAX_MS) : SHED_MS;
    this.shedding = true;
    (child as { shed?: boolean }).shed = true;
    child.kill('SIGKILL');
    this.opts.events.onShed?.(true);
    setTimeout(() => {
      if (this.stopped) return;
      this.shedding = false;
      this.windowEvents = 0;
      this.resumedAt = now();
      this.opts.events.onShed?.(false);
      void this.spawnTool('conntrack');
    }, this.shedMs).unref();
  }

  /** Whether events are being shed now (rate limit). */
  get isShedding(): boolean {
    return this.shedding;
  }

  /** Connections to Service addresses the kernel confirmed since the table was made (the svc-new counter). */
  async kernelNew(): Promise<number | undefined> {
    const r = await run(this.netns(['nft', 'list', 'counter', 'ip', FLOWS_TABLE, 'svc-new']));
    const m = /packets (\d+)/.exec(r.stdout);
    return m ? Number(m[1]) : undefined;
  }

  /** The connections to Service addresses conntrack tracks now (state, bytes, packets). */
  async list(): Promise<ConntrackEvent[]> {
    if (!this.status.ok) return [];
    const r = await run(this.netns(['conntrack', '-L', '-o', 'extended,id', '-d', this.opts.serviceCIDR]));
    return r.stdout.split('\n').map(parseConntrackLine).filter((e): e is ConntrackEvent => !!e);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const exits = [...this.children].map((c) => new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGTERM'); }));
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 2000))]);
    for (const c of this.children) c.kill('SIGKILL');
    await run(this.netns(['nft', 'delete', 'table', 'ip', FLOWS_TABLE]));
  }
}
