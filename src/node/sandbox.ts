/**
 * The Pod sandbox (what a CRI runtime calls the pod sandbox, held by a "pause" process): the Pod's
 * own network namespace with `eth0` (a veth whose peer is a port of the node's `cbr0`), an address
 * from the node's Pod CIDR, `lo` up and a default route via the bridge; and a holder process that
 * owns the Pod's UTS namespace (hostname = Pod name or spec.hostname) and mount namespace (the Pod's
 * resolv.conf and hosts bind-mounted over /etc). Containers and exec sessions join the holder with
 * `nsenter -t <holder> -n -u -m`, so every process of the Pod shares one network, UTS and mount view.
 *
 * Invariant: nothing of a Pod ever runs on the host network. If any step fails the partial sandbox
 * is torn down and a NodeError('SANDBOX_FAILED') is thrown.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { NodeError } from './errors.js';
import { pidAlive, pidStartTime, run, runOk } from './exec.js';
import { hostsFile, resolvConf, type DnsSettings } from './etcfiles.js';
import { gatewayOf, macForIP, parseCidr, type Ipam } from './ipam.js';
import { podNetnsName, podVethName } from './podnames.js';
import { deleteNetns, netnsExists } from './network.js';

/** What identifies a built sandbox; persisted in the Pod's state dir for re-adoption. */
export interface SandboxRecord {
  uid: string;
  namespace: string;
  name: string;
  netns: string;
  veth: string;
  ip: string;
  holderPid: number;
  /** /proc start time of the holder, so a re-used pid is never mistaken for ours. */
  holderStart: string;
  dir: string;
  /** hostNetwork Pod: it shares the NODE namespace (never the host's); nothing network-side is its own. */
  hostNetwork?: boolean;
}

/** Settings shared by every sandbox of one node. */
export interface SandboxEnv {
  nodeNetns: string;
  podCIDR: string;
  idPrefix: string;
  ipam: Ipam;
  dns: DnsSettings;
}

const HOLDER_SCRIPT =
  'hostname "$1" && mount --bind "$2" /etc/resolv.conf && mount --bind "$3" /etc/hosts && ' +
  '{ [ ! -e /etc/hostname ] || mount --bind "$4" /etc/hostname; } && echo ready && exec sleep infinity';

/**
 * True once the holder `pid` has run HOLDER_SCRIPT to its end: every bind mount is in place and it
 * has exec'd its `sleep` (read from /proc by processes that cannot ask the agent, such as
 * `clusterip diagnose` placing its probe Pod). Kept beside the script so the two change together.
 */
export function holderSetUp(pid: number): boolean {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep'; } catch { return false; }
}

/** Builds the sandbox for `pod` under `dir` (the Pod's state dir). */
export async function createSandbox(env: SandboxEnv, pod: Pod, dir: string): Promise<SandboxRecord> {
  const uid = pod.metadata?.uid ?? '';
  const netns = podNetnsName(env.idPrefix, uid);
  const veth = podVethName(uid);
  const gw = gatewayOf(env.podCIDR);
  const { prefix } = parseCidr(env.podCIDR);
  let ip = '';
  if (pod.spec?.hostNetwork) return createHostNetworkSandbox(env, pod, dir);
  try {
    if (!netnsExists(env.nodeNetns)) throw new NodeError('SANDBOX_FAILED', `node namespace ${env.nodeNetns} does not exist`);
    // Names derive from the Pod UID: anything already under them is this Pod's own leftover (an
    // earlier sandbox whose holder died, a creation cut short by a crash). Replace it, never
    // leave it beside the new one.
    if (netnsExists(netns)) await destroySandboxParts(env, { uid, netns, veth }, true);
    ip = env.ipam.allocate(uid);
    await runOk(['ip', 'netns', 'add', netns]);
    // Both ends are created directly in their namespaces: the host namespace never sees them.
    await runOk(['ip', '-n', env.nodeNetns, '-batch', '-'], {
      input: [
        `link add ${veth} type veth peer name eth0 netns ${netns}`,
        `link set ${veth} master cbr0`,
        `link set ${veth} type bridge_slave hairpin on`,
        `link set ${veth} up`,
      ].join('\n') + '\n',
    });
    await runOk(['ip', '-n', netns, '-batch', '-'], {
      input: [
        'link set lo up',
        // A MAC derived from the IP (as the CNI bridge plugin does): a new Pod that reuses a deleted
        // Pod's address gets the same MAC, so neighbours' ARP caches are never stale (otherwise
        // replies go to the old MAC for seconds: lost DNS answers, 5-20 s hangs).
        `link set eth0 address ${macForIP(ip)}`,
        `addr add ${ip}/${prefix} dev eth0`,
        'link set eth0 up',
        `route add default via ${gw} dev eth0`,
      ].join('\n') + '\n',
    });
    const etc = path.join(dir, 'etc');
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'resolv.conf'), resolvConf(pod, env.dns));
    fs.writeFileSync(path.join(etc, 'hosts'), hostsFile(pod, ip, env.dns.clusterDomain));
    fs.writeFileSync(path.join(etc, 'hostname'), `${hostnameOf(pod)}\n`);
    const holderPid = await startHolder(netns, hostnameOf(pod), etc);
    const rec: SandboxRecord = {
      uid, namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '',
      netns, veth, ip, holderPid, holderStart: pidStartTime(holderPid) ?? '', dir,
    };
    fs.writeFileSync(path.join(dir, 'sandbox.json'), JSON.stringify(rec));
    return rec;
  } catch (err) {
    await destroySandboxParts(env, { uid, netns, veth });
    const msg = err instanceof Error ? err.message : String(err);
    throw err instanceof NodeError ? err : new NodeError('SANDBOX_FAILED', `failed to create pod sandbox: ${msg}`);
  }
}

/**
 * A hostNetwork Pod: "the host" of a clusterip node is the node's network namespace, so the Pod's
 * processes join that namespace (its address is the node's gateway address) — never the machine's
 * own namespace. It still gets its own UTS and mount namespaces and /etc files.
 */
async function createHostNetworkSandbox(env: SandboxEnv, pod: Pod, dir: string): Promise<SandboxRecord> {
  if (!netnsExists(env.nodeNetns)) throw new NodeError('SANDBOX_FAILED', `node namespace ${env.nodeNetns} does not exist`);
  const ip = gatewayOf(env.podCIDR);
  const etc = path.join(dir, 'etc');
  fs.mkdirSync(etc, { recursive: true });
  fs.writeFileSync(path.join(etc, 'resolv.conf'), resolvConf(pod, env.dns));
  fs.writeFileSync(path.join(etc, 'hosts'), hostsFile(pod, ip, env.dns.clusterDomain));
  fs.writeFileSync(path.join(etc, 'hostname'), `${hostnameOf(pod)}\n`);
  const holderPid = await startHolder(env.nodeNetns, hostnameOf(pod), etc);
  const rec: SandboxRecord = {
    uid: pod.metadata?.uid ?? '', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '',
    netns: env.nodeNetns, veth: '', ip, holderPid, holderStart: pidStartTime(holderPid) ?? '', dir, hostNetwork: true,
  };
  fs.writeFileSync(path.join(dir, 'sandbox.json'), JSON.stringify(rec));
  return rec;
}

/** The hostname the Pod sees: spec.hostname, else the Pod name (truncated to 63 as the kubelet does). */
export function hostnameOf(pod: Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? 'pod').slice(0, 63).replace(/[-.]+$/, '');
}

function startHolder(netns: string, hostname: string, etc: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // `ip netns exec` and `unshare` both exec (no fork), so child.pid is the holder itself.
    const child = spawn('ip', ['netns', 'exec', netns, 'unshare', '--uts', '--mount', '--propagation', 'private', '--',
      'sh', '-c', HOLDER_SCRIPT, 'holder', hostname, path.join(etc, 'resolv.conf'), path.join(etc, 'hosts'), path.join(etc, 'hostname')],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    // Timers run before the loop's I/O phase: after a stall of the agent's loop, a "ready" already
    // in the pipe may not have been read yet. setImmediate runs after that phase, so it is seen
    // first and a holder that did start in time is not killed (and the Pod's sandbox re-built).
    const timer = setTimeout(() => setImmediate(() => {
      if (out.includes('ready')) return;
      child.kill('SIGKILL');
      reject(new NodeError('SANDBOX_FAILED', 'sandbox holder did not start in 5s'));
    }), 5000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        resolve(child.pid!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => { errText += d.toString(); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new NodeError('SANDBOX_FAILED', `sandbox holder exited ${code}: ${errText.trim()}`));
    });
  });
}

/** True when the recorded holder is still the process we started. */
export function holderAlive(rec: SandboxRecord): boolean {
  return pidAlive(rec.holderPid) && pidStartTime(rec.holderPid) === rec.holderStart;
}

/**
 * Tears the sandbox down: holder, namespace (every process still in it, eth0), node-side veth,
 * address (unless `keepAddress`: the Pod gets a new sandbox and keeps its IP). Idempotent. Takes a
 * full record or just the Pod UID (names derive from it), so a sandbox whose record was never
 * written is removed too.
 */
export async function destroySandbox(env: SandboxEnv, rec: SandboxRecord | { uid: string }, opts: { keepAddress?: boolean } = {}): Promise<void> {
  if ('holderPid' in rec && holderAlive(rec)) {
    try { process.kill(-rec.holderPid, 'SIGKILL'); } catch { /* gone */ }
    try { process.kill(rec.holderPid, 'SIGKILL'); } catch { /* gone */ }
  }
  if ('hostNetwork' in rec && rec.hostNetwork) {
    if (!opts.keepAddress) env.ipam.release(rec.uid);
    return; // the node namespace is not the Pod's to remove
  }
  await destroySandboxParts(env, { uid: rec.uid, netns: podNetnsName(env.idPrefix, rec.uid), veth: podVethName(rec.uid) }, opts.keepAddress);
}

async function destroySandboxParts(env: SandboxEnv, rec: { uid: string; netns: string; veth: string }, keepAddress = false): Promise<void> {
  await deleteNetns(rec.netns).catch(() => undefined);
  // Deleting the Pod namespace removes eth0 and with it the peer; this catches a half-built pair.
  if (netnsExists(env.nodeNetns)) await run(['ip', '-n', env.nodeNetns, 'link', 'del', rec.veth]);
  if (!keepAddress) env.ipam.release(rec.uid);
}

/** argv prefix that runs a command inside the Pod's namespaces. */
export function nsenterArgs(rec: SandboxRecord, workingDir?: string): string[] {
  const a = ['nsenter', '-t', String(rec.holderPid), '-n', '-u', '-m'];
  if (workingDir) a.push(`--wd=${workingDir}`);
  a.push('--');
  return a;
}
