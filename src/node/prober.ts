/**
 * Probes (readiness, liveness, startup) as the kubelet runs them. httpGet and tcpSocket traffic
 * originates in the NODE network namespace — through one long-lived helper process started with
 * `ip netns exec <node-ns>` that the agent asks over stdio — never from the host namespace; exec
 * probes run inside the Pod's namespaces. A ProbeWorker applies initialDelaySeconds, periodSeconds,
 * timeoutSeconds, failureThreshold and successThreshold and reports only result changes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { run } from './exec.js';
import { assetPath } from './images/catalog.js';
import { nsenterArgs, type SandboxRecord } from './sandbox.js';

/** One probe outcome. */
export interface ProbeResult {
  ok: boolean;
  message: string;
}

/** The helper in the node namespace that makes HTTP/TCP probe connections (and nothing else). */
export class ProbeHelper {
  private child?: ChildProcess;
  private seq = 0;
  private readonly waiting = new Map<number, (r: ProbeResult) => void>();

  constructor(private readonly nodeNetns: string) {}

  private ensure(): ChildProcess {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    const child = spawn('ip', ['netns', 'exec', this.nodeNetns, process.execPath, assetPath('probehelper.mjs')], { stdio: ['pipe', 'pipe', 'ignore'] });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const r = JSON.parse(line) as { id: number; ok: boolean; message: string };
        this.waiting.get(r.id)?.({ ok: r.ok, message: r.message });
        this.waiting.delete(r.id);
      } catch { /* ignore */ }
    });
    child.on('exit', () => {
      for (const w of this.waiting.values()) w({ ok: false, message: 'probe helper exited' });
      this.waiting.clear();
    });
    child.stdin!.on('error', () => undefined);
    this.child = child;
    return child;
  }

  /** One HTTP GET or TCP connect from the node namespace. */
  probe(q: { kind: 'http' | 'tcp'; host: string; port: number; path?: string; headers?: Record<string, string>; timeoutMs: number }): Promise<ProbeResult> {
    const child = this.ensure();
    const id = ++this.seq;
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waiting.delete(id); resolve({ ok: false, message: 'probe timed out' }); }, q.timeoutMs + 2000);
      this.waiting.set(id, (r) => { clearTimeout(t); resolve(r); });
      child.stdin!.write(JSON.stringify({ id, ...q }) + '\n');
    });
  }

  /** Stops the helper. */
  close(): void {
    const c = this.child;
    this.child = undefined;
    if (c?.pid && c.exitCode === null) c.kill('SIGKILL');
  }
}

/** Resolves a probe's port (number or container port name). */
export function probePort(port: number | string | undefined, c: Container): number {
  if (typeof port === 'number') return port;
  if (port && /^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort ?? 0;
}

/** Runs one probe attempt. */
export async function runProbe(probe: Probe, c: Container, sb: SandboxRecord, helper: ProbeHelper): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec?.command?.length) {
    const r = await run([...nsenterArgs(sb), ...probe.exec.command], { timeoutMs });
    return r.code === 0 ? { ok: true, message: '' } : { ok: false, message: (r.stdout + r.stderr).trim() || `command exited ${r.code}` };
  }
  if (probe.httpGet) {
    const headers: Record<string, string> = {};
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return helper.probe({ kind: 'http', host: probe.httpGet.host ?? sb.ip, port: probePort(probe.httpGet.port, c), path: probe.httpGet.path ?? '/', headers, timeoutMs });
  }
  if (probe.tcpSocket) {
    return helper.probe({ kind: 'tcp', host: probe.tcpSocket.host ?? sb.ip, port: probePort(probe.tcpSocket.port, c), timeoutMs });
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
  ) {
    this.result = kind !== 'readiness' && kind !== 'startup' ? true : false;
  }

  /** Starts probing after initialDelaySeconds. */
  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * this.secondMs);
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
