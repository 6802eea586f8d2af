/**
 * How `trace` and `flows` reach a running cluster's daemon: its record in the state directory
 * (found by name through the machine index, or `--state-dir`) names the API server's unix socket,
 * whose file permissions are the credential (mode 0600: root).
 */
import { request, type IncomingMessage } from 'node:http';
import { daemonRunning, StateError, type ClusterRecord } from '../cluster/state.js';
import { resolveTarget } from './target.js';

/** The record of running cluster `name` (found as every command finds it: target.ts). */
export function findRunningCluster(name: string, stateDir?: string): ClusterRecord {
  const t = resolveTarget({ name, 'state-dir': stateDir });
  const rec = t.record;
  if (!rec) throw new StateError('CLUSTER_NOT_RUNNING', `no cluster named "${t.name}" (nothing in ${t.stateDir}); start one with 'clusterip up --name ${t.name}'`);
  if (!daemonRunning(rec)) throw new StateError('CLUSTER_NOT_RUNNING', `cluster "${t.name}" is not running; start it with 'clusterip up --name ${t.name}'`);
  return rec;
}

function explain(rec: ClusterRecord, e: NodeJS.ErrnoException): Error {
  if (e.code === 'EACCES') return new StateError('CLUSTER_NOT_RUNNING', `permission denied on ${rec.unixSocket}: the API socket is root's; run with sudo`);
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return new StateError('CLUSTER_NOT_RUNNING', `cluster "${rec.name}" does not answer on ${rec.unixSocket}; is it running? ('clusterip status --name ${rec.name}')`);
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
