/**
 * Which transactions go to the long-lived iptables-restore: small ones, and only with iptables-nft
 * (a legacy iptables-restore holds the machine-wide xtables lock while it runs). No kernel needed:
 * a recording executor and a stand-in for iptables-restore that answers the marker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { IptablesProxier } from './proxier.js';
import type { ExecResult } from '../exec.js';

/** Answers `-S PREROUTING` (the session's marker) as iptables-restore does; silent otherwise. */
const FAKE_RESTORE = String.raw`
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === '-S PREROUTING') process.stdout.write('-P PREROUTING ACCEPT\n');
});
`;

function setup(version: string): { proxier: IptablesProxier; restores: string[]; spawned: string[][] } {
  const restores: string[] = [];
  const spawned: string[][] = [];
  const exec = async (argv: string[], stdin?: string): Promise<ExecResult> => {
    if (argv[0] === 'iptables' && argv[1] === '-V') return { stdout: `${version}\n`, stderr: '', code: 0 };
    if (argv[0] === 'iptables-restore') restores.push(stdin ?? '');
    return { stdout: '', stderr: '', code: argv.includes('-C') ? 1 : 0 };
  };
  const proxier = new IptablesProxier({ serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', exec,
    spawn: (argv) => { spawned.push(argv); return spawn(process.execPath, ['-e', FAKE_RESTORE], { stdio: ['pipe', 'pipe', 'pipe'] }); } });
  return { proxier, restores, spawned };
}

const SMALL = '*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -j RETURN\nCOMMIT\n';

test('iptables-nft: a small transaction goes to the session, a big one (full sync) runs on its own', async (t) => {
  const { proxier, restores, spawned } = setup('iptables v1.8.9 (nf_tables)');
  t.after(() => proxier.close());
  await proxier.apply(SMALL);
  assert.equal(spawned.length, 1, 'one session started');
  assert.ok(!restores.includes(SMALL), 'the small transaction was not run as its own process');
  const big = `*nat\n${':KUBE-SVC-Y - [0:0]\n'.repeat(20_000)}COMMIT\n`;
  await proxier.apply(big);
  assert.ok(restores.includes(big), 'the big transaction ran as its own iptables-restore');
});

test('legacy iptables: every transaction is its own iptables-restore, no session is started', async (t) => {
  const { proxier, restores, spawned } = setup('iptables v1.8.9 (legacy)');
  t.after(() => proxier.close());
  await proxier.apply(SMALL);
  await proxier.apply(`*nat\n${':KUBE-SVC-Y - [0:0]\n'.repeat(20_000)}COMMIT\n`);
  // Not even started ahead of time after a transaction (the session is warmed after big ones).
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(spawned.length, 0, 'no long-lived iptables-restore holding the xtables lock');
  assert.ok(restores.includes(SMALL));
});
