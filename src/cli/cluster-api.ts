/**
 * How `trace` and `flows` reach a running cluster's daemon: its record in the state directory
 * (`/var/lib/clusterip/<name>/cluster.json`, or `--state-dir`) names the API server's unix socket,
 * whose file permissions are the credential (mode 0600: root). One small function finds the record,
 * so a cluster index can replace the lookup later without touching the commands.
 */
import { request, type IncomingMessage } from 'node:http';
import { defaultStateDir, isAlive, readRecord, validateClusterName, StateError, type ClusterRecord } from '../cluster/state.js';

/** The record of running cluster `name` (state in `stateDir`, default /var/lib/clusterip/<name>). */
export function findRunningCluster(name: string, stateDir?: string): ClusterRecord {
  validateClusterName(name);
  const dir = stateDir ?? defaultStateDir(name);
  const rec = readRecord(dir);
  if (!rec) throw new StateError(`no cluster named "${name}" (nothing in ${dir}); start one with 'clusterip up --name ${name}'`);
  if (!isAlive(rec.pid)) throw new StateError(`cluster "${name}" is not running; start it with 'clusterip up --name ${name}'`);
  return rec;
}

function explain(rec: ClusterRecord, e: NodeJS.ErrnoException): Error {
  if (e.code === 'EACCES') return new StateError(`permission denied on ${rec.unixSocket}: the API socket is root's; run with sudo`);
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return new StateError(`cluster "${rec.name}" does not answer on ${rec.unixSocket}; is it running? ('clusterip status --name ${rec.name}')`);
  return e;
}

async function failure(res: IncomingMessage): Promise<Error> {
  let body = '';
  for await (const c of res) body += c;
  try {
    const st = JSON.parse(body) as { message?: string };
    return new Error(st.message ?? `HTTP ${res.statusCode}`);
  } catch {
    return new Error(`HTTP ${res.statusCode}: ${body.trim()}`);
  }
}

/** GET `path` from the cluster's API; resolves with the parsed JSON, rejects with the Status message. */
export function apiGet<T>(rec: ClusterRecord, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: rec.unixSocket, path, headers: { Accept: 'application/json' } }, (res) => {
      if ((res.statusCode ?? 500) >= 300) { void failure(res).then(reject); return; }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => { try { resolve(JSON.parse(body) as T); } catch (e) { reject(e); } });
    });
    req.on('error', (e) => reject(explain(rec, e)));
    req.end();
  });
}

/** GET `path` as an NDJSON stream; calls `onLine` per object until the stream ends or `stop()` is called. */
export function apiStream<T>(rec: ClusterRecord, path: string, onLine: (obj: T) => void): { done: Promise<void>; stop(): void } {
  let stop = () => {};
  const done = new Promise<void>((resolve, reject) => {
    const req = request({ socketPath: rec.unixSocket, path, headers: { Accept: 'application/x-ndjson' } }, (res) => {
      if ((res.statusCode ?? 500) >= 300) { void failure(res).then(reject); return; }
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const text = rest + chunk;
        const lines = text.split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l.trim()) onLine(JSON.parse(l) as T);
      });
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    stop = () => { req.destroy(); resolve(); };
    req.on('error', (e) => reject(explain(rec, e)));
    req.end();
  });
  return { done, stop: () => stop() };
}
