/**
 * Probes (readiness, liveness, startup) as the kubelet runs them. httpGet and tcpSocket connections
 * originate in the NODE network namespace, like the kubelet's, never from the host namespace: each
 * attempt is one short-lived busybox `nc` entered into the node namespace (`nsenter --net`), so no
 * process stays resident for probing (a Node.js helper kept there cost ~44 MB of RSS per node;
 * one attempt costs ~3 ms of process start). exec probes run inside the container (the runtime's
 * exec entry). A ProbeWorker applies initialDelaySeconds, periodSeconds, timeoutSeconds,
 * failureThreshold and successThreshold and reports only result changes.
 */
import { spawn } from 'node:child_process';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { run } from './exec.js';

/** One probe outcome. */
export interface ProbeResult {
  ok: boolean;
  message: string;
}

/** One HTTP GET or TCP connect made from the node namespace. */
export interface NetworkProbe {
  kind: 'http' | 'tcp';
  host: string;
  port: number;
  path?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** The User-Agent the kubelet sends (kube-probe/<major.minor>). */
const USER_AGENT = 'kube-probe/1.32';

/** The HTTP/1.1 request the kubelet sends for an httpGet probe (keep-alive off). */
export function probeRequest(q: NetworkProbe): string {
  const headers: Record<string, string> = { Host: `${q.host}:${q.port}`, 'User-Agent': USER_AGENT, Accept: '*/*', Connection: 'close' };
  for (const [k, v] of Object.entries(q.headers ?? {})) {
    const same = Object.keys(headers).find((h) => h.toLowerCase() === k.toLowerCase());
    if (same) delete headers[same];
    headers[k] = v;
  }
  const lines = [`GET ${q.path || '/'} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * The kubelet's verdict on an HTTP answer's status line, with its messages: 200 <= code < 400 is
 * success; anything else (or no HTTP answer) fails.
 */
export function httpVerdict(q: NetworkProbe, statusLine: string): ProbeResult {
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine);
  if (!m) return { ok: false, message: `Get "${probeURL(q)}": malformed HTTP response ${JSON.stringify(statusLine.slice(0, 40))}` };
  const code = Number(m[1]);
  return code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` };
}

function probeURL(q: NetworkProbe): string {
  return `http://${q.host}:${q.port}${q.path || '/'}`;
}

/** busybox nc's "can't connect to remote host (ip): Connection refused" → Go's "connect: connection refused". */
function dialError(q: NetworkProbe, stderr: string): string {
  const why = /: ([^:\n]+)\s*$/.exec(stderr.trim())?.[1]?.toLowerCase() ?? (stderr.trim() || 'connection failed');
  return `dial tcp ${q.host}:${q.port}: connect: ${why}`;
}

/** Makes probe connections from inside one node's network namespace. */
export class NodeProber {
  constructor(private readonly nodeNetns: string) {}

  /** One HTTP GET or TCP connect from the node namespace. */
  probe(q: NetworkProbe): Promise<ProbeResult> {
    // nc's own connect timeout (whole seconds, at least 1); the timer below enforces the real one.
    const connectSecs = String(Math.max(1, Math.ceil(q.timeoutMs / 1000)));
    const argv = q.kind === 'tcp'
      // -e runs a program once connected (true: close at once): exit 0 iff the connect succeeded.
      ? ['busybox', 'nc', '-w', connectSecs, q.host, String(q.port), '-e', 'true']
      : ['busybox', 'nc', '-w', connectSecs, q.host, String(q.port)];
    return new Promise((resolve) => {
      let settled = false;
      let stdout = '';
      let stderr = '';
      const child = spawn('nsenter', [`--net=/run/netns/${this.nodeNetns}`, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
      const done = (r: ProbeResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        resolve(r);
      };
      const timer = setTimeout(() => done(q.kind === 'tcp'
        ? { ok: false, message: `dial tcp ${q.host}:${q.port}: i/o timeout` }
        : { ok: false, message: `Get "${probeURL(q)}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }), q.timeoutMs);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        stdout += s;
        // The status line is all an HTTP probe needs; the rest of the answer is not read.
        const nl = stdout.indexOf('\n');
        if (q.kind === 'http' && nl >= 0) done(httpVerdict(q, stdout.slice(0, nl).replace(/\r$/, '')));
      });
      child.stderr.on('data', (b: Buffer) => { if (stderr.length < 4096) stderr += b.toString(); });
      child.stdin.on('error', () => undefined);
      child.on('error', (e) => done({ ok: false, message: `probe could not run nc in ${this.nodeNetns}: ${e.message}` }));
      child.on('close', (code) => {
        if (q.kind === 'tcp') { done(code === 0 ? { ok: true, message: '' } : { ok: false, message: dialError(q, stderr) }); return; }
        if (code !== 0 && !stdout) { done({ ok: false, message: `Get "${probeURL(q)}": ${dialError(q, stderr)}` }); return; }
        if (!stdout) { done({ ok: false, message: `Get "${probeURL(q)}": EOF` }); return; }
        done(httpVerdict(q, stdout.split('\n')[0]!.replace(/\r$/, '')));
      });
      child.stdin.end(q.kind === 'http' ? probeRequest(q) : '');
    });
  }
}

/** Resolves a probe's port (number or container port name). */
export function probePort(port: number | string | undefined, c: Container): number {
  if (typeof port === 'number') return port;
  if (port && /^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort ?? 0;
}

/** Runs one probe attempt. `execArgv` runs a command inside the container (exec probes). */
export async function runProbe(probe: Probe, c: Container, podIP: string, prober: NodeProber, execArgv: (cmd: string[]) => string[]): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec?.command?.length) {
    const r = await run(execArgv(probe.exec.command), { timeoutMs });
    return r.code === 0 ? { ok: true, message: '' } : { ok: false, message: (r.stdout + r.stderr).trim() || `command exited ${r.code}` };
  }
  if (probe.httpGet) {
    const headers: Record<string, string> = {};
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return prober.probe({ kind: 'http', host: probe.httpGet.host ?? podIP, port: probePort(probe.httpGet.port, c), path: probe.httpGet.path ?? '/', headers, timeoutMs });
  }
  if (probe.tcpSocket) {
    return prober.probe({ kind: 'tcp', host: probe.tcpSocket.host ?? podIP, port: probePort(probe.tcpSocket.port, c), timeoutMs });
  }
  return { ok: true, message: '' };
}

/** Probe kinds. */
export type ProbeKind = 'readiness' | 'liveness' | 'startup';

/**
 * Runs one probe of one container on its schedule. `onChange(ok, message)` is called when the
 * thresholded result flips (readiness starts false, liveness/startup start "true" = not failed).
 */
export class ProbeWorker {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private result: boolean;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly attempt: () => Promise<ProbeResult>,
    private readonly onChange: (ok: boolean, message: string) => void,
    /** Test hook: scales every delay (1 = real seconds). */
    private readonly secondMs = 1000,
    /**
     * Resuming a container that was already probed (an agent restart): start from this result, and
     * without initialDelaySeconds (measured from the container's start, long past).
     */
    private readonly resume?: { initial: boolean },
  ) {
    this.result = resume ? resume.initial : kind !== 'readiness' && kind !== 'startup';
  }

  /** Starts probing after initialDelaySeconds. */
  start(): void {
    this.schedule(this.resume ? 0 : (this.probe.initialDelaySeconds ?? 0) * this.secondMs);
  }

  /** Stops for good. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let r: ProbeResult;
    try { r = await this.attempt(); } catch (e) { r = { ok: false, message: String(e) }; }
    if (this.stopped) return;
    if (r.ok) { this.successes++; this.failures = 0; } else { this.failures++; this.successes = 0; }
    const successThreshold = this.kind === 'readiness' ? (this.probe.successThreshold ?? 1) : 1;
    const failureThreshold = this.probe.failureThreshold ?? 3;
    let next = this.result;
    if (r.ok && this.successes >= successThreshold) next = true;
    if (!r.ok && this.failures >= failureThreshold) next = false;
    if (next !== this.result) {
      this.result = next;
      this.onChange(next, r.message);
    }
    // A succeeded startup probe is done; a failed liveness/startup is acted on by the owner.
    if (this.kind === 'startup' && this.result) return;
    this.schedule((this.probe.periodSeconds ?? 10) * this.secondMs);
  }
}
