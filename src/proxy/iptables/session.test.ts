/**
 * The long-lived iptables-restore session against the real tool in a fresh network namespace: a
 * transaction is live when `run` resolves, a refused one rejects with iptables-restore's own
 * message and leaves nothing behind, and the session carries on with a new process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mustRunInNetns, netnsSpawn, type NetnsSpawn } from '../exec.js';
import { IptablesRestoreSession } from './session.js';
import { ProxyError } from '../errors.js';

function scratch(t: { after(fn: () => unknown): void }, recycleBytes?: number): { ns: string; session: IptablesRestoreSession; started: string[][] } {
  const ns = `cip-is-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const started: string[][] = [];
  const spawn = netnsSpawn(ns);
  const counting: NetnsSpawn = (argv) => { started.push(argv); return spawn(argv); };
  const session = new IptablesRestoreSession(counting, { recycleBytes });
  t.after(async () => {
    await session.close();
    execFileSync('ip', ['netns', 'del', ns]);
  });
  return { ns, session, started };
}

test('a transaction is in the kernel when run resolves; one process serves many', async (t) => {
  const { ns, session, started } = scratch(t);
  for (let i = 0; i < 5; i++) {
    await session.run(`*nat\n:KUBE-SEP-T${i} - [0:0]\n-A KUBE-SEP-T${i} -p tcp -m tcp -j DNAT --to-destination 10.244.0.${i + 2}:8080\nCOMMIT\n`);
    const rules = await mustRunInNetns(ns, ['iptables', '-t', 'nat', '-S', `KUBE-SEP-T${i}`]);
    assert.match(rules, new RegExp(`--to-destination 10\\.244\\.0\\.${i + 2}:8080`), `transaction ${i} live at once`);
  }
  assert.equal(started.length, 1, 'one long-lived iptables-restore');
  assert.deepEqual(started[0], ['sh', '-c', 'exec stdbuf -oL iptables-restore --noflush -w 2>&1']);
});

test('a refused transaction rejects with the tool\'s message, applies nothing, and the next one runs', async (t) => {
  const { ns, session, started } = scratch(t);
  await session.run('*nat\n:KUBE-SVC-A - [0:0]\nCOMMIT\n');
  // The second rule jumps to a chain that does not exist: the whole block is refused.
  await assert.rejects(
    session.run('*nat\n:KUBE-SVC-B - [0:0]\n-A KUBE-SVC-B -j RETURN\n-A KUBE-SVC-B -j KUBE-NOWHERE\nCOMMIT\n'),
    (e: unknown) => e instanceof ProxyError && e.code === 'KERNEL_COMMAND_FAILED' && /KUBE-NOWHERE' does not exist/.test(e.message),
  );
  const chains = await mustRunInNetns(ns, ['iptables', '-t', 'nat', '-S']);
  assert.match(chains, /^-N KUBE-SVC-A$/m);
  assert.doesNotMatch(chains, /KUBE-SVC-B/, 'nothing of the refused block');
  await session.run('*nat\n:KUBE-SVC-C - [0:0]\nCOMMIT\n');
  assert.match(await mustRunInNetns(ns, ['iptables', '-t', 'nat', '-S']), /^-N KUBE-SVC-C$/m);
  assert.equal(started.length, 2, 'the refused block ended the process; a new one took over');
});

test('the process is replaced after recycleBytes of input; a recycled session sees changes made by others', async (t) => {
  const { ns, session, started } = scratch(t, 100);
  await session.run('*nat\n:KUBE-SVC-R - [0:0]\n-A KUBE-SVC-R -j RETURN\nCOMMIT\n');
  await session.run('*nat\n-A KUBE-SVC-R -j RETURN\nCOMMIT\n');
  assert.equal(started.length, 2, 'more than 100 bytes written: a fresh process');
  // Another process deletes the chain; the session is told to renew, then recreates it.
  await mustRunInNetns(ns, ['iptables-restore', '--noflush'], '*nat\n:KUBE-SVC-R - [0:0]\n-X KUBE-SVC-R\nCOMMIT\n');
  session.recycle();
  await session.run('*nat\n:KUBE-SVC-R - [0:0]\n-A KUBE-SVC-R -j RETURN\nCOMMIT\n');
  assert.equal((await mustRunInNetns(ns, ['iptables', '-t', 'nat', '-S', 'KUBE-SVC-R'])).trim().split('\n').length, 2);
});

test('a session whose tool cannot start is marked unusable', async () => {
  const broken: NetnsSpawn = (argv) => netnsSpawn('cip-no-such-ns-' + randomBytes(3).toString('hex'))(argv);
  const session = new IptablesRestoreSession(broken);
  try {
    await assert.rejects(session.run('*nat\nCOMMIT\n'), (e: unknown) => e instanceof ProxyError && e.code === 'KERNEL_COMMAND_FAILED');
    assert.equal(session.usable, false);
  } finally {
    await session.close();
  }
});
