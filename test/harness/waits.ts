/**
 * Waiting on a cluster from tests that drive it with kubectl: poll until a condition holds (with the
 * last error in the timeout message), read an object as JSON, and the Ready condition of Nodes/Pods.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubectlRunner } from './kubectl.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every `everyMs` until it returns a value other than undefined/false; throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

/** `kubectl <args> -o json`, parsed; a failed command throws its stderr. */
export async function kubectlJson<T>(k: KubectlRunner, args: string[]): Promise<T> {
  const r = await k([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as T;
}

/** The Ready condition of a Node or Pod is True. */
export const isReady = (o: Node | Pod): boolean => !!o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
