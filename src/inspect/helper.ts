/**
 * Runs the probe helper (probehelper.mjs) inside one of the cluster's namespaces: a node's or a
 * Pod's network namespace (`ip netns exec`), or a Pod's network *and* mount namespace (`nsenter
 * --net=/run/netns/<netns> -t <pid> -m`, so name lookups read that Pod's own /etc/resolv.conf, as
 * its programs do). One
 * process answers a whole batch of requests, run concurrently. Never runs in the host's namespace.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './exec.js';
import type { DnsRcode } from './types.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The helper script beside this file (src/), or in src/ when running from dist/ (tsc does not copy .mjs). */
function helperPath(): string {
  const own = join(HERE, 'probehelper.mjs');
  return existsSync(own) ? own : join(HERE, '..', '..', 'src', 'inspect', 'probehelper.mjs');
}

export type HelperRequest =
  | { op: 'tcp'; host: string; port: number; timeoutMs?: number }
  | { op: 'tcp-repeat'; host: string; port: number; count: number; timeoutMs?: number }
  | { op: 'dns'; server: string; name: string; type: 'A' | 'SRV' | 'CNAME'; timeoutMs?: number }
  | { op: 'lookup'; name: string; timeoutMs?: number }
  | { op: 'read'; path: string }
  | { op: 'http'; host: string; port: number; path: string; timeoutMs?: number };

export interface TcpAnswer { ok: boolean; ms: number; error?: string; localPort?: number }
export interface TcpRepeatAnswer { ok: number; failed: number; localPorts: number[]; errors: Record<string, number> }
export interface DnsAnswer { rcode: DnsRcode; answers: string[]; error?: string }
export interface LookupAnswer { addresses?: string[]; error?: string; ms: number }
export interface ReadAnswer { text?: string; error?: string }
export interface HttpAnswer { status?: number; error?: string; ms: number }

/**
 * Where the helper runs: a named network namespace, or that network namespace with the mount
 * namespace of `pid` (a Pod's, for its resolv.conf). The network namespace is always given by name,
 * never through the pid: a pid that ended and was given to another process cannot move the probe's
 * traffic out of the cluster's namespaces.
 */
export type HelperPlace = { netns: string; pid?: number };

export class HelperError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelperError';
  }
}

/** Runs `requests` in `place`; answers in the same order. Throws HelperError when the helper cannot run there. */
export async function runHelper(place: HelperPlace, requests: readonly HelperRequest[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown[]> {
  if (requests.length === 0) return [];
  const node = [process.execPath, helperPath()];
  const argv = place.pid === undefined
    ? ['ip', 'netns', 'exec', place.netns, ...node]
    : ['nsenter', `--net=/run/netns/${place.netns}`, '-t', String(place.pid), '-m', '--', ...node];
  const r = await runCommand(argv, { input: JSON.stringify(requests), timeoutMs: opts.timeoutMs ?? 5000, signal: opts.signal });
  const where = place.pid === undefined ? `network namespace ${place.netns}` : `network namespace ${place.netns} with the mount namespace of pid ${place.pid}`;
  if (r.code !== 0) {
    const why = r.spawnError ?? (r.timedOut ? 'timed out' : r.aborted ? 'interrupted' : r.stderr.trim().split('\n').slice(-2).join(' ') || 'no output');
    throw new HelperError(`probe helper in ${where} failed (exit ${r.code}): ${why}`);
  }
  try {
    const answers = JSON.parse(r.stdout) as unknown[];
    if (!Array.isArray(answers) || answers.length !== requests.length) throw new Error('wrong number of answers');
    return answers;
  } catch (e) {
    throw new HelperError(`probe helper in ${where} answered unreadably: ${(e as Error).message}`);
  }
}
