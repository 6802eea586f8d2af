/**
 * The HTTP backend of the data-plane bench: Debian's nginx in a Pod namespace, one process
 * (`master_process off`), keep-alive, no access log, a fixed 2-byte answer. A cheap, steady server
 * keeps the figure about the path to it (bridge, conntrack, DNAT) rather than about the server:
 * with a slow or `Connection: close` server the bench measured connection setup and the server's
 * CPU, and the client and server fought over the two cores.
 *
 * nginx runs under `setpriv --pdeathsig KILL`, so it dies with the bench process even when that is
 * killed outright; `stop()` kills it by pid and removes its config directory.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function config(dir: string, port: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  server {
    listen ${port} backlog=4096;
    location / { return 200 "ok"; }
  }
}
`;
}

export class NginxBackend {
  private constructor(private readonly proc: ChildProcess, private readonly dir: string) {}

  /**
   * Starts nginx on `port` inside `ns` and resolves once it listens there. `cpu` pins it to one
   * CPU (taskset), so a bench can give each client/server pair a CPU of its own.
   */
  static async start(ns: string, port: number, opts: { cpu?: number } = {}): Promise<NginxBackend> {
    const dir = mkdtempSync(join(tmpdir(), 'cip-bench-nginx-'));
    writeFileSync(join(dir, 'nginx.conf'), config(dir, port));
    const pin = opts.cpu === undefined ? [] : ['taskset', '-c', String(opts.cpu)];
    const proc = spawn('ip', ['netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', ...pin, 'nginx', '-p', dir, '-e', 'stderr', '-c', join(dir, 'nginx.conf')],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    const backend = new NginxBackend(proc, dir);
    process.once('exit', backend.stop);
    process.once('SIGTERM', backend.onSignal);
    process.once('SIGINT', backend.onSignal);
    const deadline = Date.now() + 5000;
    for (;;) {
      if (proc.exitCode !== null) { backend.stop(); throw new Error(`nginx in ${ns} exited ${proc.exitCode}`); }
      const listening = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn', `sport = :${port}`], { encoding: 'utf8' });
      if (listening.trim()) return backend;
      if (Date.now() > deadline) { backend.stop(); throw new Error(`nginx in ${ns} did not listen on ${port}`); }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kills nginx (by its pid) and removes its files; safe to call twice. */
  readonly stop = (): void => {
    process.off('exit', this.stop);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
    }
    rmSync(this.dir, { recursive: true, force: true });
  };

  /** A run killed from outside ('exit' does not fire then): clean up, then die of the signal. */
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.stop();
    process.kill(process.pid, sig);
  };
}
