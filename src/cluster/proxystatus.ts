/**
 * The proxy's sync status, shared with processes outside the daemon: `clusterip explain` and
 * `diagnose` run as their own processes and read `<stateDir>/nodes/<node>/proxy-status.json`, which
 * the daemon rewrites after every sync and failure (at most every `minIntervalMs`, the last state
 * always written). Inside the daemon, `Proxy.status()` is the same data without the file.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProxyStatus } from '../proxy/proxy.js';

/** The status file of node `nodeName` in cluster state dir `stateDir`. */
export function proxyStatusPath(stateDir: string, nodeName: string): string {
  return join(stateDir, 'nodes', nodeName, 'proxy-status.json');
}

/** Reads a node's proxy status; undefined when there is none (a cluster started by an older build). */
export function readProxyStatus(stateDir: string, nodeName: string): ProxyStatus | undefined {
  try {
    return JSON.parse(readFileSync(proxyStatusPath(stateDir, nodeName), 'utf8')) as ProxyStatus;
  } catch {
    return undefined;
  }
}

/**
 * A throttled writer: `update(status)` is cheap to call after every sync; the file is rewritten
 * atomically at most every `minIntervalMs` (default 100), and the latest status is always written
 * in the end. `close()` writes what is pending.
 */
export class ProxyStatusWriter {
  private pending?: ProxyStatus;
  private timer?: NodeJS.Timeout;
  private lastWrite = 0;

  constructor(private readonly path: string, private readonly minIntervalMs = 100) {}

  update(status: ProxyStatus): void {
    this.pending = status;
    if (this.timer) return;
    const wait = this.lastWrite + this.minIntervalMs - Date.now();
    if (wait <= 0) this.flush();
    else {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, wait);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private flush(): void {
    const s = this.pending;
    if (!s) return;
    this.pending = undefined;
    this.lastWrite = Date.now();
    try {
      writeFileSync(`${this.path}.tmp`, JSON.stringify(s) + '\n', { mode: 0o644 });
      renameSync(`${this.path}.tmp`, this.path);
    } catch {
      // The status is advisory; a full disk must not break the proxy.
    }
  }
}
