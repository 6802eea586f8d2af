/**
 * `--proxy-mode ipvs`: kube-proxy's IPVS mode needs the kernel's ip_vs module, which the kernels
 * clusterip was built on do not have. The answer says what was found, so the user knows why.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The kernel's IPVS support, as far as files show it without loading anything. */
export function ipvsStatus(): 'loaded' | 'module' | 'absent' {
  if (existsSync('/proc/net/ip_vs') || existsSync('/sys/module/ip_vs')) return 'loaded';
  try {
    const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    const dep = readFileSync(`/lib/modules/${release}/modules.dep`, 'utf8');
    if (/\/ip_vs\.ko(\.[a-z]+)?:/.test(dep)) return 'module';
  } catch { /* no module tree (a VM kernel without modules) */ }
  return 'absent';
}

/** The message of `up --proxy-mode ipvs`. */
export function ipvsUnavailable(status = ipvsStatus()): string {
  const why = status === 'absent'
    ? 'this kernel has no IPVS (no /proc/net/ip_vs, no ip_vs module to load)'
    : 'clusterip has no IPVS backend (this kernel has ip_vs, but the mode is not implemented)';
  return `--proxy-mode ipvs is not available: ${why}. Use nftables (the default, what kube-proxy recommends since 1.31), iptables, or userspace`;
}
