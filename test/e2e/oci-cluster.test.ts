/**
 * End to end with the real CLI and kubectl (root, offline): `clusterip up --images auto` with its
 * own image store; a Deployment of an image pushed to Debian's docker-registry on loopback, behind
 * a Service, reached by name from a catalog busybox Pod; `kubectl describe` names the runtime;
 * `clusterip image load` of a `docker save` archive, a Pod from it with imagePullPolicy Never,
 * `image ls` and `image rm` (refused while in use). A pulled image with the Pod's volumes (ConfigMap,
 * Secret, projected token + ConfigMap, emptyDir, a subPath), env from a Secret and a ConfigMap, the
 * ServiceAccount token accepted by TokenReview, and files that follow a ConfigMap patch.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, layerTar, writeDockerArchive, writeOciLayout } from '../../src/images/testing/fixtures.js';
import { startRegistry } from '../../src/images/testing/registry.js';
import { ociToolsPresent } from '../../src/node/runtime/oci.js';
import { runCli, upCluster } from '../harness/up.js';
import { until } from '../harness/waits.js';
import { killHard } from './recovery-helpers.js';

const skip = ociToolsPresent() ? false : 'runc and conmon are not installed (apt-get install runc conmon)';

/** A temporary directory for the test's image layouts, removed when the test ends. */
function workDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('kubectl: a pulled image behind a Service, reached by name; describe names the runtime; image load, ls, rm', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const base = await layerTar(busyboxRootfs());
  const page = await layerTar([{ path: 'var/www/index.html', type: 'file', content: 'served by a pulled image\n' }]);
  const work = workDir(t, 'cip-oci-e2e-');
  writeOciLayout(join(work, 'layout'), '1.0', { layers: [base, page], config: { Entrypoint: ['httpd', '-f', '-h', '/var/www'], Cmd: ['-p', '8080'] } });
  reg.push(join(work, 'layout'), '1.0', 'team/web');

  const c = await upCluster(t, { extraArgs: ['--images', 'auto'] });
  const store = join(c.dir, 'images');
  const k = async (args: string[]): Promise<string> => {
    const r = await c.kubectl(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  await k(['create', 'deployment', 'web', `--image=${reg.host}/team/web:1.0`, '--replicas=2', '--port=8080']);
  await k(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
  await k(['run', 'client', '--image=busybox', '--', 'sleep', '3600']);
  await k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
  await k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s']);
  const got = await until('the Service to answer by name', 60_000, async () => {
    const r = await c.kubectl(['exec', 'client', '--', 'sh', '-c', 'timeout 3 wget -qO- http://web/']);
    return (r.code === 0 && r.stdout) || undefined;
  }, 200);
  assert.equal(got, 'served by a pulled image\n');
  const describe = await k(['describe', 'pods', '-l', 'app=web']);
  assert.match(describe, /Container ID:\s+runc:\/\//);
  assert.match(describe, new RegExp(`Image ID:\\s+${reg.host.replace(/\./g, '\\.')}/team/web@sha256:[a-f0-9]{64}`));
  assert.match(describe, /Successfully pulled image|already present on machine/);
  assert.match(await k(['describe', 'pod', 'client']), /Container ID:\s+catalog:\/\//);

  // Air-gapped: a docker save archive, loaded with the CLI, run with imagePullPolicy Never.
  const archive = join(work, 'tool.tar');
  await writeDockerArchive(archive, 'example.com/team/tool:2.0', { layers: [base], config: { Cmd: ['sh', '-c', 'echo loaded-image-ran; sleep 3600'] } });
  const load = await runCli(['image', 'load', archive, '--image-store', store], { timeoutMs: 60_000 });
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /^loaded example\.com\/team\/tool:2\.0 \(sha256:[a-f0-9]{64}, [\d.]+MB\)\n1 image\(s\) in \d+ ms\n$/);
  await k(['run', 'tool', '--image=example.com/team/tool:2.0', '--image-pull-policy=Never']);
  await k(['wait', '--for=condition=Ready', 'pod/tool', '--timeout=60s']);
  assert.equal(await until('the loaded image\'s output', 60_000, async () => (await c.kubectl(['logs', 'tool'])).stdout || undefined, 200), 'loaded-image-ran\n');
  const ls = await runCli(['image', 'ls', '--image-store', store]);
  assert.match(ls.stdout, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE\s+IN USE\n/);
  assert.match(ls.stdout, /example\.com\/team\/tool\s+2\.0\s+[a-f0-9]{13}\s+[\d.]+MB\s+yes\n/);
  assert.match(ls.stdout, new RegExp(`${reg.host.replace(/\./g, '\\.')}/team/web\\s+1\\.0\\s+[a-f0-9]{13}\\s+[\\d.]+MB\\s+yes\\n`));
  const busy = await runCli(['image', 'rm', 'example.com/team/tool:2.0', '--image-store', store]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /is in use by a container; delete its Pods first/);
  await k(['delete', 'pod', 'tool', '--grace-period=1', '--wait=true', '--timeout=60s']);
  const rm = await until('image rm once the Pod is gone', 20_000, async () => {
    const r = await runCli(['image', 'rm', 'example.com/team/tool:2.0', '--image-store', store]);
    return (r.code === 0 && r.stdout) || undefined;
  }, 200);
  assert.match(rm, /^Untagged: example\.com\/team\/tool:2\.0\nDeleted: sha256:[a-f0-9]{64}\n$/);

  // The daemon killed outright, then `down --purge`: its pulled containers leave no mount, runc
  // state or process behind (the harness checks processes and namespaces).
  assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(c.dir), 'rootfs overlays are mounted while the Pods run');
  process.kill(c.record.pid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  await c.down();
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(c.dir)).join('\n'), '', 'no mount left');
});

test('a pulled image gets the Pod\'s volumes, env sources and ServiceAccount token: ConfigMap files that follow the object, a Secret in env, a token the API accepts', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const work = workDir(t, 'cip-oci-vol-');
  writeOciLayout(join(work, 'layout'), '1', { layers: [await layerTar(busyboxRootfs())], config: { Cmd: ['sleep', '3600'], Env: ['PATH=/bin'] } });
  reg.push(join(work, 'layout'), '1', 'team/tools');
  const image = `${reg.host}/team/tools:1`;

  const c = await upCluster(t, { extraArgs: ['--images', 'auto'] });
  const k = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { timeoutMs: 60_000, ...(input ? { input } : {}) });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const sh = async (cmd: string): Promise<{ code: number; stdout: string; stderr: string }> => c.kubectl(['exec', 'reader', '--', 'sh', '-c', cmd], { timeoutMs: 30_000 });
  const out = async (cmd: string): Promise<string> => {
    const r = await sh(cmd);
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  await k(['apply', '-f', '-'], `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {greeting: hello, app.conf: "level=1\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret}
stringData: {password: s3cr3t}
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  containers:
  - name: c
    image: ${image}
    envFrom: [{prefix: CFG_, configMapRef: {name: app-config}}]
    env:
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: app-secret, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: config, mountPath: /opt/app.conf, subPath: app.conf}
    - {name: secret, mountPath: /etc/secret}
    - {name: mixed, mountPath: /var/mixed}
    - {name: scratch, mountPath: /scratch}
  volumes:
  - {name: config, configMap: {name: app-config}}
  - {name: secret, secret: {secretName: app-secret, defaultMode: 0400}}
  - name: mixed
    projected:
      sources:
      - serviceAccountToken: {path: token, expirationSeconds: 600, audience: api}
      - configMap: {name: app-config, items: [{key: greeting, path: greeting}]}
  - {name: scratch, emptyDir: {}}
`);
  await k(['wait', '--for=condition=Ready', 'pod/reader', '--timeout=90s']);
  assert.match(await k(['get', 'pod', 'reader', '-o', 'jsonpath={.status.containerStatuses[0].containerID}']), /^runc:\/\//, 'the pulled image runs under runc');

  // Files of the ConfigMap and Secret, env from both, in the image's own filesystem (no host /usr).
  assert.equal(await out('ls /usr 2>&1; cat /etc/app/greeting; echo; cat /opt/app.conf'), 'ls: /usr: No such file or directory\nhello\nlevel=1\n');
  assert.equal(await out('cat /etc/secret/password; echo; stat -L -c %a /etc/secret/password'), 's3cr3t\n400\n');
  const env = await out('env');
  for (const line of ['PASSWORD=s3cr3t', 'CFG_greeting=hello', 'POD_NAME=reader', 'KUBERNETES_SERVICE_HOST=10.96.0.1']) assert.match(env, new RegExp(`^${line}$`, 'm'));
  // API-data volumes are read-only, as the kubelet mounts them; an emptyDir is writable.
  const w = await sh('echo x > /etc/app/x');
  assert.notEqual(w.code, 0);
  assert.match(w.stderr, /Read-only file system/);
  assert.equal(await out('echo hi > /scratch/f && cat /scratch/f'), 'hi\n');

  // The ServiceAccount token at the standard path, and the projected one: the API accepts both.
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  assert.equal(await out(`cat ${sa}/namespace`), 'default');
  assert.match(await out(`cat ${sa}/ca.crt`), /^-----BEGIN CERTIFICATE-----/);
  const review = async (token: string, audiences?: string[]): Promise<string> => {
    const r = JSON.parse(await k(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } }))) as
      { status: { authenticated?: boolean; user?: { username?: string; extra?: Record<string, string[]> } } };
    return `${r.status.authenticated} ${r.status.user?.username} ${r.status.user?.extra?.['authentication.kubernetes.io/pod-name']?.join(',')}`;
  };
  assert.equal(await review(await out(`cat ${sa}/token`)), 'true system:serviceaccount:default:default reader');
  const projected = await out('cat /var/mixed/token');
  assert.equal(await review(projected, ['api']), 'true system:serviceaccount:default:default reader');

  // The ConfigMap changes: the mounted directory follows (the ..data swap, seen through the bind
  // mount), in the projected volume too, whose token is still there after the swap; the subPath
  // file and the env stay as they were at start, as in Kubernetes.
  const before = await out('readlink /var/mixed/..data');
  await k(['patch', 'configmap', 'app-config', '-p', '{"data":{"greeting":"bonjour","app.conf":"level=2\\n"}}']);
  const end = Date.now() + 30_000;
  let seen = '';
  while (Date.now() < end && seen !== 'bonjour|bonjour') {
    seen = await out('echo "$(cat /etc/app/greeting)|$(cat /var/mixed/greeting)"').then((s) => s.trim());
    if (seen !== 'bonjour|bonjour') await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(seen, 'bonjour|bonjour', 'both volumes follow the ConfigMap');
  assert.notEqual(await out('readlink /var/mixed/..data'), before, 'a new ..data target');
  assert.equal(await review(await out('cat /var/mixed/token'), ['api']), 'true system:serviceaccount:default:default reader', 'the token survives the swap');
  assert.equal(await out('cat /opt/app.conf'), 'level=1\n');
  assert.match(await out('env'), /^CFG_greeting=hello$/m);
});

/**
 * Runs `kubectl <kubectlArgs>` (`attach -it`, `run -it`) under `script` (kubectl needs a terminal for -t), its terminal set to
 * 33 rows × 101 columns so kubectl's resize stream carries that size. Each step is typed 300 ms
 * after the output since the previous step matches its pattern; a `null` step ends kubectl
 * (its terminal hangs up) without ending the container.
 */
async function attachTty(c: Awaited<ReturnType<typeof upCluster>>, home: string, kubectlArgs: string, steps: [RegExp, string | null][], ms = 60_000): Promise<string> {
  const child = spawn('script', ['-qfec', `stty rows 33 cols 101; exec kubectl ${kubectlArgs}`, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: join(c.dir, 'kubeconfig'), TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let from = 0;
  let step = 0;
  let pending = false;
  const feed = (): void => {
    const s = steps[step];
    if (!s || pending || !s[0].test(out.slice(from))) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      from = out.length;
      step++;
      if (s[1] === null) child.kill('SIGKILL');
      else child.stdin.write(s[1]);
      feed();
    }, 300);
  };
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); feed(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  child.stdin.on('error', () => undefined);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  return out;
}

test('kubectl: a pulled image with tty: true gets a real terminal (attach -it, resize, Ctrl-C, exit, logs), kept across a daemon crash', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const work = workDir(t, 'cip-oci-tty-');
  writeOciLayout(join(work, 'layout'), '1', { layers: [await layerTar(busyboxRootfs())], config: { Cmd: ['sh'] } });
  reg.push(join(work, 'layout'), '1', 'team/shell');
  const c = await upCluster(t, { extraArgs: ['--images', 'auto'] });
  const k = async (args: string[]): Promise<string> => {
    const r = await c.kubectl(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  // kubectl run -it (tty, stdin, the image's sh), attached below under a terminal; stdin is left
  // open after the first attach so a second one (after the crash) finds the same shell.
  await k(['run', 'shell', `--image=${reg.host}/team/shell:1`, '--restart=Never', '-i', '-t', '--attach=false', '--leave-stdin-open']);
  await k(['wait', '--for=condition=Ready', 'pod/shell', '--timeout=60s']);
  assert.match(await k(['get', 'pod', 'shell', '-o', 'jsonpath={.status.containerStatuses[0].containerID}']), /^runc:\/\//);

  // busybox sh edits lines on a terminal: its prompt may be followed by control sequences (a cursor
  // position query, clear to end of screen) — which it only sends to a terminal.
  const prompt = /# (\x1b\[[0-9;]*[A-Za-z])*$/;
  // kubectl sends its size plus one, then its size (so a re-attach redraws): wait for the second.
  const size = 'for i in $(seq 20); do [ "$(stty size)" = "$((30+3)) $((100+1))" ] && break; sleep 0.2; done; stty size';
  // The first attach: the shell's prompt, a terminal of the container's own devpts, the size kubectl sent.
  const first = await attachTty(c, work, 'attach -it shell', [[prompt, `V=kept; tty; ${size}; echo "mark-$((6*7))"\r`], [/mark-42/, null]]);
  assert.match(first, /\/dev\/pts\/0\r?\n/, first);
  assert.match(first, /33 101\r?\n/, first);

  // The daemon dies: the container and its terminal go on; the new daemon adopts them.
  await killHard(c.record.pid!);
  await c.upAgain();
  await k(['wait', '--for=condition=Ready', 'pod/shell', '--timeout=60s']);
  // A later attach: the same shell (its variable is set); Ctrl-C ends the foreground `sleep` (the
  // terminal's line discipline signals its process group) long before its 30 s; `exit 3` ends it.
  const t0 = Date.now();
  const second = await attachTty(c, work, 'attach -it shell', [
    [prompt, 'sleep 30\r'], [/sleep 30/, '\x03'], [prompt, 'echo "after-$V"; exit 3\r'],
  ]);
  assert.ok(Date.now() - t0 < 25_000, `Ctrl-C did not end sleep:\n${second}`);
  assert.match(second, /after-kept/, second);
  const code = await until('the container to end', 60_000, async () => {
    const r = await c.kubectl(['get', 'pod', 'shell', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}']);
    return (r.code === 0 && r.stdout) || undefined;
  }, 200);
  assert.equal(code, '3');
  // kubectl logs: what the terminal showed, with the terminal's line ends (as Kubernetes shows).
  const logs = await k(['logs', 'shell']);
  assert.match(logs, /\/dev\/pts\/0\r\n/);
  assert.match(logs, /mark-42\r\n/);
  assert.match(logs, /after-kept\r\n/);

  // The common case: kubectl run -it --rm (stdinOnce) — a terminal at once, gone when the shell exits.
  const once = await attachTty(c, work, `run once -it --rm --restart=Never --image=${reg.host}/team/shell:1 -- sh`, [[prompt, `tty; ${size}; exit\r`]]);
  assert.match(once, /\/dev\/pts\/0\r?\n/, once);
  assert.match(once, /33 101\r?\n/, once);
  await until('the --rm Pod to go', 60_000, async () => (await c.kubectl(['get', 'pod', 'once'])).code !== 0, 200);
});
