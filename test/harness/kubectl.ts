/**
 * Runs the REAL kubectl on PATH with a private HOME (fresh discovery cache) and a given KUBECONFIG.
 */
import { spawn } from 'node:child_process';

/** Result of one kubectl run. */
export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlRunOptions {
  /** Written to kubectl's stdin (then closed). */
  input?: string;
  env?: Record<string, string>;
  /** Kill after this many ms (default 30 000); the result then has code -1. */
  timeoutMs?: number;
  /** Called with the stdout so far on each chunk; return true to stop kubectl (for `-w`). */
  onStdout?: (soFar: string) => boolean | void;
}

export interface KubectlRunner {
  (args: string[], opts?: KubectlRunOptions): Promise<KubectlRun>;
  /** Kills every kubectl still running (cleanup). */
  killAll(): void;
}

/**
 * A kubectl runner bound to `home` and `kubeconfig`. With `netns`, kubectl runs inside that
 * network namespace (`nsenter --net`), e.g. on a "machine" of a multi-machine test whose API server
 * listens on that namespace's loopback.
 */
export function kubectlRunner(home: string, kubeconfig: string, opts: { netns?: string } = {}): KubectlRunner {
  const children = new Set<ReturnType<typeof spawn>>();
  const runner = ((args: string[], o: KubectlRunOptions = {}) => new Promise<KubectlRun>((resolve, reject) => {
    const [cmd, argv] = opts.netns ? ['nsenter', [`--net=/run/netns/${opts.netns}`, '--', 'kubectl', ...args]] : ['kubectl', args];
    const child = spawn(cmd, argv, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = ''; let stderr = ''; let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, o.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); if (o.onStdout?.(stdout)) child.kill('SIGTERM'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (e) => { clearTimeout(timer); children.delete(child); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); children.delete(child); resolve({ code: timedOut ? -1 : code ?? -1, stdout, stderr }); });
    child.stdin.on('error', () => { /* kubectl may exit before reading stdin */ });
    child.stdin.end(o.input ?? '');
  })) as KubectlRunner;
  runner.killAll = () => { for (const c of children) c.kill('SIGKILL'); };
  return runner;
}
