/**
 * The HTTP backend of the data-plane bench: Debian's nginx in a Pod namespace, one process
 * (`master_process off`), keep-alive, no access log. It answers two workloads:
 *
 * - `TINY_ANSWER_PATH`: a fixed 2-byte body (`return 200 "ok"`), the least work a server can do per
 *   request, so the figure is about the path to it (bridge, conntrack, DNAT) and little else: the
 *   worst case for the proxy's share;
 * - `WELCOME_PAGE_PATH`: the stock "Welcome to nginx!" page, served from the very file our `nginx`
 *   image serves in the seeds (`WELCOME_PAGE_FILE`, see prepareNginx in src/node/images/catalog.ts),
 *   the same way (static file, `sendfile on`, mime types): the seeds' own workload.
 *
 * A cheap, steady server keeps the figure about the path rather than the server: with a slow or
 * `Connection: close` server the bench measured connection setup and the server's CPU, and the
 * client and server fought over the two cores.
 *
 * nginx runs under `setpriv --pdeathsig KILL`, so it dies with the bench process even when that is
 * killed outright; `stop()` kills it by pid and removes its config directory.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The path answered with a fixed 2-byte body. */
export const TINY_ANSWER_PATH = '/ok';
/** The path answered with the welcome page (nginx's `index` maps `/` to index.html). */
export const WELCOME_PAGE_PATH = '/';
/**
 * The page an `nginx` Pod serves: Debian nginx-common's 615-byte index.html, the first place
 * src/node/images/catalog.ts looks. Served in place, not copied, so the bench and the Pods send
 * the same bytes.
 */
export const WELCOME_PAGE_FILE = '/usr/share/nginx/html/index.html';

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
    location = ${TINY_ANSWER_PATH} { return 200 "ok"; }
    # As the nginx image serves it (catalog.ts), set here only so the tiny answer's headers stay
    # as they were: root + index, file sent per request with sendfile, type from mime.types.
    location / {
      include /etc/nginx/mime.types;
      default_type application/octet-stream;
      sendfile on;
      root ${dirname(WELCOME_PAGE_FILE)};
      index index.html index.htm;
    }
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
    // No fallback page: a different page would be a different workload under the same name.
    if (!existsSync(WELCOME_PAGE_FILE)) throw new Error(`${WELCOME_PAGE_FILE} missing (Debian's nginx-common installs it)`);
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
