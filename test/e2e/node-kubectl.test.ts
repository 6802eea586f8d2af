/**
 * End-to-end with the real kubectl (root, real kernel): the HTTP API server (test/harness) serving
 * pods/log and pods/exec from the node agent, Pods as real processes. Leak-checked.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { PodStreamProvider } from '../../src/api/streams.js';
import { R } from '../../src/api/resources.js';
import { startNodeAgent, type NodeAgent } from '../../src/node/agent.js';
import { run } from '../../src/node/exec.js';
import { processesMentioning } from '../../src/node/testing/harness.js';
import { startTestCluster, type TestCluster } from '../harness/cluster.js';

/**
 * A real API server (HTTPS, real kubectl) whose Pod streams are served by a real node agent in its
 * own node namespace. Cleanup checks that no namespace (and, when asked, no process) is left.
 */
async function clusterWithAgent(t: TestContext, opts: { checkProcesses: boolean }): Promise<{ c: TestCluster; agent: NodeAgent; id: string }> {
  let agent: NodeAgent | undefined;
  const streams: PodStreamProvider = {
    logs: (...a) => agent!.logs(...a), exec: (...a) => agent!.exec(...a),
    attach: (...a) => agent!.attach(...a), portForward: (...a) => agent!.portForward(...a),
  };
  const c = await startTestCluster(t, { streams });
  const id = randomBytes(2).toString('hex');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipn-${id}-`));
  agent = await startNodeAgent({
    client: c.core, nodeName: `node-${id}`, nodeIndex: 0, netns: `cipt-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipt-${id}`,
  });
  t.after(async () => {
    await agent!.stop();
    const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipt-${id}`));
    const procs = opts.checkProcesses ? processesMentioning(stateDir) : [];
    fs.rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(left, []);
    assert.deepEqual(procs, []);
  });
  return { c, agent, id };
}

test('kubectl run/wait/logs/exec/run --rm against Pods run by the node agent', async (t) => {
  const { c, agent, id } = await clusterWithAgent(t, { checkProcesses: true });
  // No scheduler here: bind by nodeName through --overrides.
  const bind = JSON.stringify({ spec: { nodeName: `node-${id}` } });
  let r = await c.kubectl(['run', 'web', '--image=nginx', `--overrides=${bind}`]);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['exec', 'web', '--', 'hostname']);
  assert.equal(r.stdout, 'web\n', r.stderr);
  r = await c.kubectl(['exec', 'web', '--', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3, r.stderr);
  const web = await c.core.get<Pod>(R.pods, 'default', 'web');
  r = await c.kubectl(['run', 'tmp', '--rm', '-i', '--restart=Never', '--image=busybox', `--overrides=${bind}`, '--',
    'wget', '-qO-', `http://${web.status!.podIP}/`], { timeoutMs: 30_000 });
  assert.match(r.stdout, /Welcome to nginx!/, r.stderr);
  r = await c.kubectl(['logs', 'web', '--tail=1']);
  assert.match(r.stdout, /"GET \/ HTTP\/1\.1" 200 .*Wget/, r.stderr);
  // --rm deleted the Pod; the agent removed everything of it.
  r = await c.kubectl(['get', 'pod', 'tmp']);
  assert.notEqual(r.code, 0);


  // kubectl run -it: an interactive shell on a real terminal (kubectl itself runs under `script`
  // so that its stdin is a TTY), in which the nginx Pod is reachable.
  const cmd = `kubectl run shell --rm -it --restart=Never --image=busybox --overrides='${bind}' -- sh`;
  const out = await new Promise<string>((resolve) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!sent && /If you don't see a command prompt|# $/.test(buf)) {
        sent = true;
        child.stdin.write(`wget -qO- http://${web.status!.podIP}/ | grep -o 'Welcome to nginx!' | tr a-z A-Z ; echo rc=$((40+2))\r`);
        setTimeout(() => child.stdin.write('exit\r'), 1500);
      }
    });
    child.on('close', () => { clearTimeout(timer); resolve(buf); });
  });
  // Upper-cased inside the Pod, so the terminal's echo of the typed line cannot satisfy this.
  assert.match(out, /WELCOME TO NGINX!/);
  assert.match(out, /rc=42/);
  r = await c.kubectl(['get', 'pod', 'shell']);
  assert.notEqual(r.code, 0, 'run --rm deleted the Pod');
});

test('clusterip/dns image: the DNS server runs as a Pod and answers another Pod over the bridge', async (t) => {
  const c = await startTestCluster(t);
  const id = randomBytes(2).toString('hex');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `cipn-${id}-`));
  const agent = await startNodeAgent({
    client: c.core, nodeName: `node-${id}`, nodeIndex: 0, netns: `cipt-${id}-n0`, podCIDR: '10.244.0.0/24', stateDir,
    clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', idPrefix: `cipt-${id}`,
  });
  t.after(async () => {
    await agent.stop();
    const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`cipt-${id}`));
    fs.rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(left, []);
  });
  const mk = (name: string, spec: Pod['spec']): Promise<Pod> => c.core.create<Pod>(R.pods, 'default',
    { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: `node-${id}`, ...spec! } });
  const svc = await c.core.create<Service>(R.services, 'default', { apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } });
  const ip = svc.spec!.clusterIP!;
  const want = new RegExp(`Address:?\\s+${ip.replace(/\./g, '\\.')}\\b`);
  await mk('dns', { containers: [{ name: 'dns', image: 'clusterip/dns', args: ['--api-socket', path.join(c.dir, 'apiserver.sock'), '--listen', '0.0.0.0:53'] }] });
  await mk('client', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] });
  let dnsIP = '';
  for (let i = 0; i < 100 && !dnsIP; i++) {
    const p = await c.core.get<Pod>(R.pods, 'default', 'dns');
    const cl = await c.core.get<Pod>(R.pods, 'default', 'client');
    if (p.status?.containerStatuses?.[0]?.state?.running && cl.status?.containerStatuses?.[0]?.state?.running) dnsIP = p.status.podIP ?? '';
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(dnsIP);
  let answer = '';
  for (let i = 0; i < 50 && !want.test(answer); i++) {
    const s = await agent.exec('default', 'client', { command: ['nslookup', 'web.default.svc.cluster.local', dnsIP], stdin: false, stdout: true, stderr: true, tty: false });
    answer = '';
    s.stdout!.on('data', (d: Buffer) => { answer += d.toString(); });
    await s.result;
    if (!want.test(answer)) await new Promise((r) => setTimeout(r, 200));
  }
  let logs = '';
  for await (const ch of await agent.logs('default', 'dns', {}, new AbortController().signal)) logs += ch.toString();
  assert.match(answer, want, logs);
});

/** A running `kubectl port-forward`, started by the test (so it is killed by pid at the end). */
interface Forward { port: number; stdout(): string; stderr(): string; exited: Promise<number | null>; stop(): Promise<number | null> }

function portForward(t: TestContext, c: TestCluster, args: string[], env: Record<string, string> = {}): Promise<Forward> {
  const child = spawn('kubectl', ['port-forward', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`port-forward did not listen: ${out} ${err}`)); }, 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> \d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), stdout: () => out, stderr: () => err, exited, stop: async () => { child.kill('SIGTERM'); return exited; } });
      }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`port-forward exited: ${out} ${err}`)); });
  });
}

/** One HTTP/1.1 exchange per request on one kept-alive loopback connection to kubectl's listener. */
async function httpSession(port: number): Promise<{ get(): Promise<string>; close(): void }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  let buf = '';
  let waiter: (() => void) | undefined;
  sock.on('data', (d: Buffer) => { buf += d.toString(); waiter?.(); });
  return {
    get: async () => {
      sock.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n');
      // nginx's welcome page is sent with Content-Length; the response is complete at </html>.
      while (!buf.includes('</html>')) await new Promise<void>((r) => { waiter = r; setTimeout(r, 5000); });
      const page = buf;
      buf = '';
      return page;
    },
    close: () => sock.end(),
  };
}

test('kubectl port-forward to a Pod run by the node agent (WebSocket tunnel, SPDY fallback, errors)', async (t) => {
  const { c, id } = await clusterWithAgent(t, { checkProcesses: true });
  const bind = JSON.stringify({ spec: { nodeName: `node-${id}` } });
  let r = await c.kubectl(['run', 'web', '--image=nginx', `--overrides=${bind}`]);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
  assert.equal(r.code, 0, r.stderr);

  // Default kubectl 1.32: the SPDY-over-WebSocket tunnel (-v=4 shows the negotiated subprotocol).
  const ws = await portForward(t, c, ['pod/web', ':80', '-v=4']);
  // The listener is kubectl's own and only on loopback (127.0.0.1 and ::1), never a wildcard.
  const listening = (await run(['ss', '-Hltn', `sport = :${ws.port}`])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[3]);
  assert.ok(listening.length >= 1 && listening.every((a) => a === `127.0.0.1:${ws.port}` || a === `[::1]:${ws.port}`), JSON.stringify(listening));
  // Two connections at once: A stays open across B's whole exchange, then is used again.
  const a = await httpSession(ws.port);
  const b = await httpSession(ws.port);
  const [pa, pb] = await Promise.all([a.get(), b.get()]);
  assert.match(pa, /^HTTP\/1\.1 200 OK[\s\S]*Welcome to nginx!/);
  assert.match(pb, /Welcome to nginx!/);
  b.close();
  assert.match(await a.get(), /Welcome to nginx!/);
  a.close();
  // nginx logged the requests as coming from inside the Pod (nc connects to 127.0.0.1 there).
  r = await c.kubectl(['logs', 'web']);
  assert.equal((r.stdout.match(/^127\.0\.0\.1 .*"GET \/ HTTP\/1\.1" 200/gm) ?? []).length, 3, r.stdout);
  assert.equal((ws.stdout().match(/Handling connection for/g) ?? []).length, 2);
  assert.match(ws.stderr(), /negotiated protocol: portforward\.k8s\.io/);
  assert.doesNotMatch(ws.stderr(), /fallback to secondary dialer/);
  await ws.stop();

  // With the WebSocket path switched off kubectl speaks plain SPDY/3.1 (what older kubectls use).
  const spdy = await portForward(t, c, ['pod/web', ':80', '-v=4'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
  const s = await httpSession(spdy.port);
  assert.match(await s.get(), /Welcome to nginx!/);
  s.close();
  assert.doesNotMatch(spdy.stderr(), /negotiated protocol/);
  await spdy.stop();

  // A port nothing listens on: the error stream carries the reason; kubectl reports it and exits.
  const bad = await portForward(t, c, ['pod/web', ':81']);
  const conn = net.connect({ host: '127.0.0.1', port: bad.port });
  conn.on('error', () => undefined);
  const code = await Promise.race([bad.exited, new Promise<string>((res) => setTimeout(() => res('still running'), 10_000))]);
  conn.destroy();
  assert.equal(code, 1, bad.stderr());
  assert.match(bad.stderr(), /error forwarding port 81 to pod web_default, uid [0-9a-f-]+: failed to connect to localhost:81 inside the Pod's network namespace: .*Connection refused/);
  assert.match(bad.stderr(), /lost connection to pod/);

  // Every in-Pod nc of those forwards has ended with its connection.
  const podNs = (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`cipt-${id}-p`));
  let ncs: string[] = [];
  for (let i = 0; i < 20; i++) {
    ncs = [];
    for (const ns of podNs) {
      for (const pid of (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean)) {
        try { if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('busybox\0nc\0')) ncs.push(pid); } catch { /* gone */ }
      }
    }
    if (!ncs.length) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(ncs, []);
});

test('stdinOnce: the first attach closes the container\'s stdin when it ends; without it stdin stays open', async (t) => {
  const { c, id } = await clusterWithAgent(t, { checkProcesses: true });
  const bind = JSON.stringify({ spec: { nodeName: `node-${id}` } });
  // kubectl run -i sets stdinOnce: kubectl's stdin ends → the container's stdin ends → cat returns.
  let r = await c.kubectl(['run', 'once', '--rm', '-i', '--restart=Never', '--image=busybox', `--overrides=${bind}`, '--',
    'sh', '-c', 'cat; echo stdin-closed'], { input: 'hello from kubectl\n', timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hello from kubectl\nstdin-closed\n/);

  // stdin without stdinOnce: an attach that ends leaves stdin open; the next attach's input arrives.
  await c.core.create<Pod>(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'open', namespace: 'default' },
    spec: { nodeName: `node-${id}`, containers: [{ name: 'c', image: 'busybox', stdin: true, command: ['sh', '-c', 'cat; echo stdin-closed; sleep 3600'] }] } });
  r = await c.kubectl(['wait', '--for=condition=Ready', 'pod/open', '--timeout=20s']);
  assert.equal(r.code, 0, r.stderr);
  for (const word of ['first', 'second']) {
    r = await c.kubectl(['attach', '-i', 'open'], { input: `${word}\n`, timeoutMs: 15_000, onStdout: (so) => so.includes(word) });
    assert.match(r.stdout, new RegExp(word), r.stderr);
  }
  await new Promise((res) => setTimeout(res, 500));
  r = await c.kubectl(['logs', 'open']);
  assert.equal(r.stdout, 'first\nsecond\n');
  const open = await c.core.get<Pod>(R.pods, 'default', 'open');
  assert.ok(open.status?.containerStatuses?.[0]?.state?.running, 'still running: stdin was never closed');
});

test('kubectl logs --timestamps shows when each line was written, not when it was read; --since cuts by that time', async (t) => {
  const { c, id } = await clusterWithAgent(t, { checkProcesses: true });
  const bind = JSON.stringify({ spec: { nodeName: `node-${id}` } });
  let r = await c.kubectl(['run', 'clock', '--restart=Never', '--image=busybox', `--overrides=${bind}`, '--',
    'sh', '-c', 'echo early; sleep 3; echo late; sleep 3600']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['wait', '--for=condition=Ready', 'pod/clock', '--timeout=20s']);
  assert.equal(r.code, 0, r.stderr);
  const started = Date.now();
  // Wait until "late" is in the log, then let time pass before reading.
  for (let i = 0; i < 100; i++) {
    r = await c.kubectl(['logs', 'clock']);
    if (r.stdout.includes('late')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  await new Promise((res) => setTimeout(res, 1500));
  const readAt = Date.now();
  r = await c.kubectl(['logs', 'clock', '--timestamps']);
  const m = /^(\S+) early\n(\S+) late\n$/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  assert.match(m[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  const early = Date.parse(m[1]!), late = Date.parse(m[2]!);
  assert.ok(Math.abs(late - early - 3000) < 500, `3 s apart as written: ${m[1]} ${m[2]}`);
  assert.ok(early <= started + 200, `early stamped at its write, before the test waited: ${m[1]} vs ${new Date(started).toISOString()}`);
  assert.ok(readAt - late >= 1400, `late stamped at its write, not at the read ${new Date(readAt).toISOString()}: ${m[2]}`);
  // The same times on a second read: they are recorded, not computed when read.
  r = await c.kubectl(['logs', 'clock', '--timestamps', '--tail=1']);
  assert.equal(r.stdout, `${m[2]} late\n`);
  // --since by write time: "late" was written ~1.5 s ago, "early" ~4.5 s ago.
  r = await c.kubectl(['logs', 'clock', '--since=3s']);
  assert.equal(r.stdout, 'late\n', r.stderr);
  r = await c.kubectl(['logs', 'clock', `--since-time=${new Date(early - 1000).toISOString()}`]);
  assert.equal(r.stdout, 'early\nlate\n', r.stderr);
});
