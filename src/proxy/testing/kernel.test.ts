/**
 * The golden scenario's transactions applied for real: every text a backend renders (full sync,
 * incremental sync, a restarted proxy's full sync) must be accepted by the kernel's own tools in a
 * fresh network namespace. Golden files only pin the text; this catches text the tools refuse
 * (nft once rejected a UDP DNAT through an endpoints map typed for TCP: "conflicting protocols").
 */
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { netnsSpawn, runInNetns, type NetnsExec, type NetnsSpawn } from '../exec.js';
import { NftablesProxier } from '../nftables/proxier.js';
import { IptablesProxier } from '../iptables/proxier.js';
import { runScenario } from './scenario.js';
import { NODE_IP } from './shapes.js';
import type { ProxyBackend } from '../types.js';

const CIDRS = { serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', nodeIPs: [NODE_IP] };

// Each backend twice: every transaction its own process, and through the long-lived session.
for (const [mode, make] of [
  ['nftables', (exec: NetnsExec): ProxyBackend => new NftablesProxier({ ...CIDRS, exec })],
  ['iptables', (exec: NetnsExec): ProxyBackend => new IptablesProxier({ ...CIDRS, exec })],
  ['nftables (nft -i session)', (exec: NetnsExec, spawn?: NetnsSpawn): ProxyBackend => new NftablesProxier({ ...CIDRS, exec, spawn })],
  ['iptables (iptables-restore session)', (exec: NetnsExec, spawn?: NetnsSpawn): ProxyBackend => new IptablesProxier({ ...CIDRS, exec, spawn })],
] as const) {
  // The scenario's restarted proxy finds the kernel as the first full sync left it.
  for (const steps of [['full', 'incremental'], ['full', 'restartFull']] as const) {
    test(`${mode}: the kernel accepts the golden scenario's ${steps.join(' then ')} transactions`, async (t) => {
      const ns = `cip-kt-${randomBytes(4).toString('hex')}`;
      execFileSync('ip', ['netns', 'add', ns]);
      const exec: NetnsExec = (argv, stdin) => runInNetns(ns, argv, stdin);
      const texts = runScenario(() => make(exec));
      const backend = make(exec, netnsSpawn(ns));
      t.after(async () => {
        await backend.close();
        execFileSync('ip', ['netns', 'del', ns]);
      });
      for (const step of steps) {
        await backend.apply(texts[step]).catch((e: unknown) => { throw new Error(`${step}: ${String(e)}`); });
      }
    });
  }
}
