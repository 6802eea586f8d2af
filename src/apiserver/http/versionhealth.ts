/** /version and the health endpoints (/healthz, /livez, /readyz and their /<check> sub-paths). */
import { ApiError } from '../../api/errors.js';

/** The Kubernetes version we report. Minor 32 makes the kubectl dispatcher on PATH pick its 1.32 build. */
export const VERSION_INFO = {
  major: '1', minor: '32', gitVersion: 'v1.32.0', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc',
  platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** Answers a health path: `ok` (or the verbose check list); 404 for other paths. */
export function healthAnswer(pathname: string, verbose: boolean, ready: boolean): { code: number; text: string } | undefined {
  const m = /^\/(healthz|livez|readyz)(?:\/(.*))?$/.exec(pathname);
  if (!m) return undefined;
  const ok = m[1] !== 'readyz' || ready;
  if (m[2] !== undefined && m[2] !== 'ping' && m[2] !== 'log' && m[2] !== 'etcd') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  if (!verbose) return { code: ok ? 200 : 500, text: ok ? 'ok' : 'readyz check failed' };
  const lines = ['[+]ping ok', '[+]log ok', `[${ok ? '+' : '-'}]storage ${ok ? 'ok' : 'failed'}`];
  return { code: ok ? 200 : 500, text: `${lines.join('\n')}\n${m[1]} check ${ok ? 'passed' : 'failed'}\n` };
}
