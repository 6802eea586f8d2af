/**
 * `kubectl debug` end to end (root, real kernel, the real kubectl): the API server's
 * pods/NAME/ephemeralcontainers and a real node agent running the debug container in the target
 * Pod's network namespace, attach, ephemeralContainerStatuses, `--target`, `node/NAME` and
 * `--copy-to`. Leak-checked: no namespace and no process of the test is left.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodStreamProvider } from '../../src/api/streams.js';
import { R } from '../../src/api/resources.js';
import { startNodeAgent, type NodeAgent } from '../../src/node/agent.js';
import { run } from '../../src/node/exec.js';
import { processesMentioning } from '../../src/node/testing/harness.js';
import { debugListenersCommand } from '../../src/inspect/checks/common.js';
import { startTestCluster, type TestCluster } from '../harness/cluster.js';

interface Env {
  c: TestCluster; agent: NodeAgent; node: string; web: Pod;
  /** Stops the agent leaving its Pods running, and starts a new one over the same state (as after a crash). */
  restartAgent(): Promise<NodeAgent>;
}

/** An API server whose Pods run on one real node agent, and a Ready nginx Pod `web` on it. */
async function setup(t: TestContext): Promise<Env> {
  let agent: NodeAgent | undefined;
  const streams: PodStreamProvider = {
    logs: (...a) => agent!.logs(...a), exec: (...a) => agent!.exec(...a),
    attach: (...a) => agent!.attach(...a), portForward: (...a) => agent!.portForward(...a),
  };
  const c = await startTestCluster(t, { streams });
  const id = randomBytes(2).toString('hex');
  const node = `node-${id}`;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipn-${id}-`));
  const opts = {
    client: c.core, nodeName: node, nodeIndex: 0, netns: `cipt-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipt-${id}`,
  };
  agent = await startNodeAgent(opts);
  t.after(async () => {
    await agent!.stop();
    const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipt-${id}`));
    const procs = processesMentioning(stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(left, []);
    assert.deepEqual(procs, []);
  });
  // No scheduler in this harness: bind by nodeName.
  const r = await c.kubectl(['run', 'web', '--image=nginx', '--port=80', `--overrides=${JSON.stringify({ spec: { nodeName: node } })}`]);
  assert.equal(r.code, 0, r.stderr);
  const w = await c.kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
  assert.equal(w.code, 0, w.stderr);
  const restartAgent = async (): Promise<NodeAgent> => {
    await agent!.stop({ keepPods: true });
    agent = await startNodeAgent(opts);
    return agent;
  };
  return { c, agent, node, web: await c.core.get<Pod>(R.pods, 'default', 'web'), restartAgent };
}

/** Polls the Pod until `ok` holds. */
async function podUntil(c: TestCluster, name: string, ok: (p: Pod) => boolean, ms = 20_000): Promise<Pod> {
  const end = Date.now() + ms;
  for (;;) {
    const p = await c.core.get<Pod>(R.pods, 'default', name);
    if (ok(p)) return p;
    if (Date.now() > end) throw new Error(`pod ${name}: condition not met; status ${JSON.stringify(p.status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs an interactive kubectl command on a real terminal (`script`), typing `lines` once a prompt shows. */
function onTerminal(c: TestCluster, cmd: string, lines: string[], ms = 30_000): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!sent && /If you don't see a command prompt|# $/.test(buf)) {
        sent = true;
        let delay = 300;
        for (const l of lines) { setTimeout(() => child.stdin.write(`${l}\r`), delay); delay += 700; }
        setTimeout(() => child.stdin.write('exit\r'), delay + 800);
      }
    });
    child.on('close', () => { clearTimeout(timer); resolve(buf); });
  });
}

test('kubectl debug -i POD: the debug container sees the Pod\'s IP and its listening sockets; status, describe and logs show it', async (t) => {
  const { c, web } = await setup(t);
  const ip = web.status!.podIP!;
  const r = await c.kubectl(['debug', 'web', '-i', '--image=busybox', '--profile=general', '--', 'sh', '-c', 'hostname; ip -4 -o addr show eth0; netstat -ltn'], { timeoutMs: 40_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr + r.stdout, /Defaulting debug container name to debugger-\w+/);
  assert.match(r.stdout, /^web$/m, 'the Pod\'s UTS namespace (hostname)');
  assert.match(r.stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`), 'the Pod\'s network namespace (its eth0 and IP)');
  assert.match(r.stdout, /tcp\s+0\s+0 0\.0\.0\.0:80\s+0\.0\.0\.0:\*\s+LISTEN/, 'nginx\'s listening socket, seen from the debug container');

  const p = await podUntil(c, 'web', (x) => !!x.status?.ephemeralContainerStatuses?.[0]?.state?.terminated);
  const ec = p.spec!.ephemeralContainers![0]!;
  assert.match(ec.name, /^debugger-\w{5}$/);
  const st = p.status!.ephemeralContainerStatuses![0]!;
  assert.equal(st.name, ec.name);
  assert.equal(st.ready, false);
  assert.equal(st.state!.terminated!.exitCode, 0);
  assert.match(st.containerID ?? '', /^catalog:\/\//, 'busybox is a catalog image (the harness runs --images catalog)');
  // The debug container is not part of readiness: the Pod stays Ready, its app container untouched.
  assert.equal(p.status!.conditions!.find((x) => x.type === 'Ready')!.status, 'True');
  assert.equal(p.status!.containerStatuses![0]!.restartCount, 0);
  // Never restarted: still terminated a while later.
  await new Promise((res) => setTimeout(res, 1500));
  assert.ok((await c.core.get<Pod>(R.pods, 'default', 'web')).status!.ephemeralContainerStatuses![0]!.state!.terminated);

  const d = await c.kubectl(['describe', 'pod', 'web']);
  assert.match(d.stdout, /Ephemeral Containers:\n\s+debugger-\w+:/);
  assert.match(d.stdout, /Started container debugger-\w+/);
  const logs = await c.kubectl(['logs', 'web', '-c', ec.name]);
  assert.match(logs.stdout, /0\.0\.0\.0:80/);
  // The command `clusterip diagnose` prints for "nothing listens on targetPort" works as printed.
  const suggested = debugListenersCommand('web', 'default', 'web').replace(/\s+#.*$/, '').split(/\s+/);
  assert.equal(suggested[0], 'kubectl');
  const s2 = await c.kubectl(suggested.slice(1), { timeoutMs: 40_000 });
  assert.equal(s2.code, 0, s2.stderr);
  assert.match(s2.stdout, /tcp\s+0\s+0 0\.0\.0\.0:80\s+0\.0\.0\.0:\*\s+LISTEN/, 'nginx\'s socket');
  assert.equal(s2.stderr.trim(), '', '-q: no chatter');
  // The subresource answers the Pod, as kube-apiserver's does.
  const raw = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/ephemeralcontainers']);
  assert.equal((JSON.parse(raw.stdout) as Pod).spec?.ephemeralContainers?.[0]?.name, ec.name);
});

test('kubectl debug -it POD --target: an interactive shell in the Pod, reaching nginx on localhost and seeing the target\'s processes', async (t) => {
  const { c, agent } = await setup(t);
  // The target container's main process (nginx's master), as the node agent started it.
  const pid = agent.worker('default', 'web')!.container('web')!.pid!;
  const out = await onTerminal(c, 'kubectl debug -it web --image=busybox --target=web --profile=general -- sh',
    ['wget -qO- http://127.0.0.1/ | grep -o "Welcome to nginx!" | tr a-z A-Z', `ps -o pid,args | grep -E "^ *${pid} " | grep -o "nginx: master" | tr a-z A-Z`]);
  // Upper-cased inside the Pod, so the terminal's echo of the typed line cannot satisfy this.
  assert.match(out, /WELCOME TO NGINX!/, out);
  assert.match(out, /NGINX: MASTER/, `the target's main process (pid ${pid}) is visible:\n${out}`);
  const p = await podUntil(c, 'web', (x) => !!x.status?.ephemeralContainerStatuses?.[0]?.state?.terminated);
  assert.equal(p.spec!.ephemeralContainers![0]!.targetContainerName, 'web');
  assert.equal(p.spec!.ephemeralContainers![0]!.tty, true);
});

test('kubectl debug refusals come back in Kubernetes\' words (a taken name, a missing target); a detached debug container\'s exit code shows in status', async (t) => {
  const { c } = await setup(t);
  let r = await c.kubectl(['debug', 'web', '--image=busybox', '--container=web', '--profile=general', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Pod "web" is invalid: spec\.ephemeralContainers\[0\]\.name: Duplicate value: "web"/);
  r = await c.kubectl(['debug', 'web', '--image=busybox', '--target=nope', '--profile=general', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.ephemeralContainers\[0\]\.targetContainerName: Not found: "nope"/);
  assert.equal((await c.core.get<Pod>(R.pods, 'default', 'web')).spec?.ephemeralContainers, undefined, 'nothing was added');
  // Without -i (and with kubectl's default profile) the container is added and runs detached; its exit code shows in status.
  r = await c.kubectl(['debug', 'web', '--image=busybox', '--container=probe', '--', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 0, r.stderr);
  const p = await podUntil(c, 'web', (x) => !!x.status?.ephemeralContainerStatuses?.find((s) => s.name === 'probe')?.state?.terminated);
  assert.equal(p.status!.ephemeralContainerStatuses!.find((s) => s.name === 'probe')!.state!.terminated!.exitCode, 3);
});

test('kubectl debug node/NAME: a Pod on the node in the node\'s network namespace', async (t) => {
  const { c, node } = await setup(t);
  const r = await c.kubectl(['debug', `node/${node}`, '-i', '--image=busybox', '--profile=general', '--', 'ip', '-4', '-o', 'addr', 'show', 'cbr0'], { timeoutMs: 40_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr + r.stdout, /Creating debugging pod node-debugger-/);
  // The node namespace's bridge with the Pods' gateway: the "host" of a clusterip node.
  assert.match(r.stdout, /inet 10\.244\.0\.1\/24/);
  const pods = (await c.core.list<Pod>(R.pods, 'default')).items.filter((p) => p.metadata?.name?.startsWith('node-debugger-'));
  assert.equal(pods.length, 1);
  assert.equal(pods[0]!.spec?.hostNetwork, true);
  assert.equal(pods[0]!.spec?.nodeName, node);
  await c.kubectl(['delete', 'pod', pods[0]!.metadata!.name!, '--wait=true']);
});

test('kubectl debug --copy-to: a copy of the Pod with a debug container beside the app', async (t) => {
  const { c } = await setup(t);
  const r = await c.kubectl(['debug', 'web', '-i', '--copy-to=web-debug', '--same-node', '--image=busybox', '--container=dbg', '--', 'sh', '-c', 'sleep 1; netstat -ltn'], { timeoutMs: 40_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /0\.0\.0\.0:80\s/, 'the copy\'s nginx listens beside the debug container');
  const copy = await c.core.get<Pod>(R.pods, 'default', 'web-debug');
  assert.deepEqual(copy.spec?.containers.map((x) => x.name), ['web', 'dbg']);
  assert.equal(copy.metadata?.labels?.run, undefined, 'the copy drops labels: it serves no Service');
  await c.kubectl(['delete', 'pod', 'web-debug', '--wait=true']);
});

test('a running debug container survives an agent restart: adopted, not restarted, still in ephemeralContainerStatuses', async (t) => {
  const { c, agent: first, restartAgent } = await setup(t);
  const r = await c.kubectl(['debug', 'web', '--image=busybox', '--container=dbg', '--', 'sleep', '3600']);
  assert.equal(r.code, 0, r.stderr);
  const before = await podUntil(c, 'web', (x) => !!x.status?.ephemeralContainerStatuses?.[0]?.state?.running);
  const id = before.status!.ephemeralContainerStatuses![0]!.containerID;
  const pidBefore = first.worker('default', 'web')!.container('dbg')!.pid!;
  const agent = await restartAgent();
  // The new agent writes status again once it adopted the Pod; the debug container is the same instance.
  const dbgPid = await (async () => {
    for (let i = 0; i < 100; i++) {
      await agent.idle();
      const pid = agent.worker('default', 'web')?.container('dbg')?.pid;
      if (pid) return pid;
      await new Promise((res) => setTimeout(res, 50));
    }
    return undefined;
  })();
  assert.equal(dbgPid, pidBefore, 'the same process, adopted (not restarted)');
  const after = await c.core.get<Pod>(R.pods, 'default', 'web');
  const st = after.status!.ephemeralContainerStatuses![0]!;
  assert.equal(st.containerID, id);
  assert.ok(st.state?.running);
  assert.equal(st.restartCount, 0);
  const e = await c.kubectl(['exec', 'web', '-c', 'dbg', '--', 'sh', '-c', 'ip -4 -o addr show eth0 | grep -c inet']);
  assert.equal(e.stdout.trim(), '1', e.stderr);
});
