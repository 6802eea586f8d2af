/**
 * Checks before `up`: what the cluster needs from the machine, each failure with the fix.
 */
import { execFile } from 'node:child_process';

export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreflightError';
  }
}

function has(cmd: string, args: string[] = ['--version']): Promise<boolean> {
  return new Promise((resolve) => execFile(cmd, args, (err) => resolve(!err || (err as NodeJS.ErrnoException).code !== 'ENOENT')));
}

const INSTALL = 'apt-get install -y nftables iptables iproute2 conntrack busybox nginx-light bind9-dnsutils';

/** Throws PreflightError naming what is missing and how to get it. */
export async function preflight(mode: 'nftables' | 'iptables'): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new PreflightError('clusterip needs root (it creates network namespaces and kernel rules): run it with sudo, e.g. `sudo npx clusterip up`');
  }
  const needs: [string, string[], string][] = [
    ['ip', ['-V'], 'iproute2'],
    [mode === 'nftables' ? 'nft' : 'iptables-restore', ['--version'], mode === 'nftables' ? 'nftables' : 'iptables'],
    ['busybox', ['true'], 'busybox'],
    ['nsenter', ['--version'], 'util-linux'],
    ['dig', ['-v'], 'bind9-dnsutils'],
  ];
  const missing: string[] = [];
  for (const [cmd, args, pkg] of needs) if (!(await has(cmd, args))) missing.push(`${cmd} (package ${pkg})`);
  if (missing.length) throw new PreflightError(`missing: ${missing.join(', ')}. Install with: ${INSTALL}`);
}
