/**
 * Checks before `up`: what the cluster needs from the machine, each failure with the fix. Tools
 * are looked up on PATH (an executable file), not run: running five of them cost ~40 ms of start-up.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** Stable codes: `NOT_ROOT`, `MISSING_TOOLS`. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
  constructor(readonly code: 'NOT_ROOT' | 'MISSING_TOOLS', message: string) {
    super(message);
  }
}

/** True when `cmd` is an executable file in a PATH directory. */
function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return true;
    } catch { /* not here */ }
  }
  return false;
}

const INSTALL = 'apt-get install -y nftables iptables iproute2 conntrack busybox nginx-light bind9-dnsutils';

/** Throws PreflightError naming what is missing and how to get it. */
export function preflight(mode: 'nftables' | 'iptables' | 'userspace'): void {
  if (process.getuid?.() !== 0) {
    throw new PreflightError('NOT_ROOT', 'clusterip needs root (it creates network namespaces and kernel rules): run it with sudo, e.g. `sudo npx clusterip up`');
  }
  const needs: [string, string][] = [
    ['ip', 'iproute2'],
    // (the userspace mode's kernel part, its redirects, is written with nft)
    [mode === 'iptables' ? 'iptables-restore' : 'nft', mode === 'iptables' ? 'iptables' : 'nftables'],
    ['busybox', 'busybox'],
    ['nsenter', 'util-linux'],
    ['dig', 'bind9-dnsutils'],
  ];
  const missing = needs.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `${cmd} (package ${pkg})`);
  if (missing.length) throw new PreflightError('MISSING_TOOLS', `missing: ${missing.join(', ')}. Install with: ${INSTALL}`);
}
