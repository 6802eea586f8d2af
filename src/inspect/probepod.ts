/**
 * The probe of `clusterip diagnose`: a real, short-lived Pod in the namespace being diagnosed
 * (image pause), created through the API so the scheduler and the node agent place it exactly like
 * any Pod of that namespace — same IPAM (no race with the agent over addresses), same bridge port,
 * same resolv.conf search path, same rules on its node. Checks then run inside its namespaces
 * (`nsenter --net=/run/netns/<netns> -t <holder pid> -m`: the sandbox's holder, checked again before
 * every use — see runInProbe). It is deleted when the diagnosis ends, also on Ctrl-C; a probe left
 * by a diagnose that was killed (SIGKILL) is found by its label and owner pid and removed by the
 * next diagnose.
 *
 * Why not a bare network namespace on the node's bridge: it would need an address the node agent
 * did not hand out (IPAM lives in the agent's state file), a resolv.conf written by hand, and it
 * would not be what a Pod of the namespace is (NetworkPolicy, labels) — a model, not the system.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { Event as CoreEvent, Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { holderSetUp } from '../node/sandbox.js';
import { parentPid, pidAlive, pidStartTime } from '../sys/process.js';
import type { ClusterView } from './clusterview.js';
import { runCommand } from './exec.js';
import { HelperError, runHelper, type HelperRequest } from './helper.js';

/** Label on every probe Pod. */
export const PROBE_LABEL = 'diagnose.clusterip.dev/probe';
/** Annotation: the pid of the process that made the probe (`<pid>`), to find probes whose maker died. */
export const PROBE_OWNER = 'diagnose.clusterip.dev/owner-pid';

export interface PlacedProbe {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  node: string;
  /** Its network namespace. */
  netns: string;
  /**
   * The sandbox's holder (for `nsenter -t <pid> -m`: the Pod's mount namespace, with its
   * resolv.conf). It may change: when the holder dies the node agent builds a new sandbox under the
   * same namespace name; runInProbe then finds the new holder.
   */
  pid: number;
  /** The holder's /proc start time: with the pid, names that process and no later owner of the pid. */
  pidStart: string;
  /** From create to running, ms. */
  placedMs: number;
}

/** The probe could not be placed (no node fits, no address left, the namespace is gone, ...). Not the Service's fault. */
export class ProbeNotPlacedError extends Error {
  constructor(message: string, readonly pod?: string) {
    super(message);
    this.name = 'ProbeNotPlacedError';
  }
}

function probeObject(namespace: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: 'clusterip-probe-', namespace,
      labels: { [PROBE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'clusterip-diagnose' },
      annotations: { [PROBE_OWNER]: String(process.pid) },
    },
    spec: {
      containers: [{ name: 'probe', image: 'pause' }],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One process of a Pod's network namespace, as the choice of the probe's process sees it. */
export interface SandboxProcess {
  pid: number;
  /** /proc start time, clock ticks since boot. */
  start: number;
  /** Its parent is in the same network namespace (a child of a Pod process, e.g. the holder's `mount`s). */
  parentInside: boolean;
  /** Its mount namespace has the Pod's /etc/resolv.conf bound in. */
  resolvBound: boolean;
  /** It is a holder that has finished setting the sandbox up (src/node/sandbox.ts holderSetUp). */
  setUp: boolean;
}

/**
 * The process the probe enters: the sandbox's holder, once it has set the sandbox up (network,
 * resolv.conf, hosts) — it lives exactly as long as the sandbox. It is the oldest process of the
 * namespace that sees the Pod's resolv.conf and whose parent is outside the namespace (an `ip -n`
 * of the agent sees the host's files): the containers, exec sessions and helpers started into the
 * Pod come later, the holder's own short-lived children (`mount --bind ...`) have the holder as
 * parent. Not "the first pid in /proc that has resolv.conf bound": a scan that reads the holder
 * just before its first bind mount and one of its `mount` children just after it returns that child,
 * gone a moment later, and pids wrap (pid_max may be 32768), so a lower pid is not an older process.
 */
export function chooseSandboxProcess(procs: readonly SandboxProcess[]): SandboxProcess | undefined {
  let holder: SandboxProcess | undefined;
  for (const p of procs) if (p.resolvBound && !p.parentInside && (!holder || p.start < holder.start)) holder = p;
  return holder?.setUp ? holder : undefined;
}

/**
 * The processes of network namespace `netns`, read from /proc (no process started). `skip`: pids
 * that existed before the Pod was created, not looked at — the sandbox's processes are all newer. A
 * full pass costs ~1.7 ms of CPU with 200 processes and the placement polls every 10 ms while the
 * node agent, on the same CPUs, builds the sandbox. (Only older pids can be skipped: the holder is
 * started as `ip netns exec … unshare … sh`, each exec'ing in the same pid, so a new pid seen
 * outside the namespace may be in it at the next poll.)
 */
function sandboxProcesses(netns: string, skip?: ReadonlySet<string>): SandboxProcess[] {
  let ino: number;
  try { ino = statSync(`/run/netns/${netns}`).ino; } catch { return []; }
  const want = `net:[${ino}]`;
  const netOf = (pid: number | string): string | undefined => { try { return readlinkSync(`/proc/${pid}/ns/net`); } catch { return undefined; } };
  const out: SandboxProcess[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || skip?.has(pid) || netOf(pid) !== want) continue;
    try {
      const ppid = parentPid(Number(pid));
      const start = pidStartTime(Number(pid));
      if (ppid === undefined || start === undefined) continue;
      out.push({
        pid: Number(pid), start: Number(start), parentInside: netOf(ppid) === want,
        resolvBound: readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').some((l) => l.split(' ')[4] === '/etc/resolv.conf'),
        setUp: holderSetUp(Number(pid)),
      });
    } catch { /* gone */ }
  }
  return out;
}

/**
 * The holder of the sandbox in `netns` once it is ready to probe (see chooseSandboxProcess), with
 * its start time. `skip`: as for sandboxProcesses.
 */
export function readySandboxHolder(netns: string, skip?: ReadonlySet<string>): { pid: number; pidStart: string } | undefined {
  const p = chooseSandboxProcess(sandboxProcesses(netns, skip));
  const pidStart = p && pidStartTime(p.pid);
  // Read again: the start time names the process only if it is the one chosen.
  return p && pidStart === String(p.start) ? { pid: p.pid, pidStart } : undefined;
}

/** Whether `pid` (started at `start`) is alive and in network namespace `netns`. */
function stillHolder(pid: number, start: string, netns: string): boolean {
  try {
    return pidStartTime(pid) === start && readlinkSync(`/proc/${pid}/ns/net`) === `net:[${statSync(`/run/netns/${netns}`).ino}]`;
  } catch {
    return false;
  }
}

/**
 * The probe's holder now: the one recorded if it is still alive and in the probe's namespace, else
 * the holder of the sandbox the agent built in its place (waited for up to `timeoutMs`, default
 * 5 s). Updates `probe`. A HelperError when there is none: the sandbox ended and no new one came.
 */
export async function probeHolder(probe: PlacedProbe, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
  if (stillHolder(probe.pid, probe.pidStart, probe.netns)) return probe.pid;
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    if (opts.signal?.aborted) throw new HelperError('interrupted');
    const h = existsSync(`/run/netns/${probe.netns}`) ? readySandboxHolder(probe.netns) : undefined;
    if (h) {
      probe.pid = h.pid;
      probe.pidStart = h.pidStart;
      return h.pid;
    }
    if (Date.now() > deadline) {
      throw new HelperError(`the probe Pod's sandbox ended after it was placed (its holder, pid ${probe.pid}, is gone) and no new one was ready within ${opts.timeoutMs ?? 5000} ms`);
    }
    await sleep(20);
  }
}

/**
 * Runs the probe helper inside the probe Pod: its network namespace by name (so the traffic can only
 * ever leave from the Pod, whatever became of a pid) and its holder's mount namespace (the Pod's
 * resolv.conf). The holder is checked right before, and when the run fails because it ended
 * meanwhile, the run is repeated once in the new sandbox.
 */
export async function runInProbe(probe: PlacedProbe, requests: readonly HelperRequest[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown[]> {
  const pid = await probeHolder(probe, opts);
  try {
    return await runHelper({ pid, netns: probe.netns }, requests, opts);
  } catch (e) {
    if (!(e instanceof HelperError) || opts.signal?.aborted || stillHolder(pid, probe.pidStart, probe.netns)) throw e;
    return runHelper({ pid: await probeHolder(probe, opts), netns: probe.netns }, requests, opts);
  }
}

/** The IPv4 address of eth0 in `netns`. */
async function addressIn(netns: string, signal?: AbortSignal): Promise<string | undefined> {
  const r = await runCommand(['ip', '-n', netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { signal, timeoutMs: 3000 });
  return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1];
}

/** Why the probe Pod is not placed yet, from its status and Events; undefined while it may still come up. */
function placementFailure(pod: Pod, events: readonly CoreEvent[]): string | undefined {
  const bad = events.filter((e) => e.reason === 'FailedScheduling' || e.reason === 'FailedCreatePodSandBox' || e.reason === 'Failed');
  if (bad.length) return `${bad[bad.length - 1]!.reason}: ${bad[bad.length - 1]!.message}`;
  if (pod.status?.phase === 'Failed') return `the probe Pod failed: ${pod.status.message ?? pod.status.reason ?? ''}`;
  return undefined;
}

/**
 * Creates the probe in `namespace` and waits until it runs (<= `timeoutMs`, default 5 s). Throws
 * ProbeNotPlacedError (after removing what it created) when it cannot be placed.
 */
export async function placeProbe(client: Client, cluster: ClusterView, namespace: string, opts: { timeoutMs?: number; signal?: AbortSignal; onCreated?: (name: string) => void } = {}): Promise<PlacedProbe> {
  const t0 = performance.now();
  const older = new Set(readdirSync('/proc'));
  let created: Pod;
  try {
    created = await client.create<Pod>(R.pods, namespace, probeObject(namespace));
  } catch (e) {
    throw new ProbeNotPlacedError(`the probe Pod could not be created in namespace ${namespace}: ${(e as Error).message}`);
  }
  const name = created.metadata!.name!;
  const uid = created.metadata!.uid!;
  opts.onCreated?.(name);
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  // The probe is usable once its sandbox is: the network namespace with its holder done setting it
  // up. That comes before the container has started and the status says Running.
  const netns = cluster.sandboxNetns(uid);
  let lastApi = 0;
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new ProbeNotPlacedError('interrupted', name);
      const holder = existsSync(`/run/netns/${netns}`) ? readySandboxHolder(netns, older) : undefined;
      if (holder) {
        const pod = await client.get<Pod>(R.pods, namespace, name);
        const ip = pod.status?.podIP ?? await addressIn(netns, opts.signal);
        return { namespace, name, uid, ip: ip ?? '?', node: pod.spec?.nodeName ?? '?', netns, ...holder, placedMs: Math.round(performance.now() - t0) };
      }
      if (Date.now() - lastApi > 150) {
        lastApi = Date.now();
        const pod = await client.get<Pod>(R.pods, namespace, name);
        const events = (await client.list<CoreEvent>(R.events, namespace, { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` })).items;
        const why = placementFailure(pod, events);
        if (why) throw new ProbeNotPlacedError(why, name);
        if (Date.now() > deadline) {
          const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
          throw new ProbeNotPlacedError(`the probe Pod did not start within ${opts.timeoutMs ?? 5000} ms (phase ${pod.status?.phase ?? 'Pending'}${sched?.message ? `: ${sched.message}` : ''})`, name);
        }
      }
      await sleep(10);
    }
  } catch (e) {
    await removeProbe(client, { namespace, name, netns }).catch(() => undefined);
    if (e instanceof ProbeNotPlacedError) throw e;
    throw new ProbeNotPlacedError(`the probe Pod could not be placed: ${(e as Error).message}`, name);
  }
}

/**
 * Deletes a probe Pod (grace 0) and waits until it is gone — the object, and (when known) its
 * network namespace: a grace-0 delete removes the object at once while the node agent tears the
 * sandbox down after it — at most `timeoutMs` (default 5 s).
 */
export async function removeProbe(client: Client, probe: { namespace: string; name: string; netns?: string }, opts: { timeoutMs?: number } = {}): Promise<void> {
  try {
    await client.delete(R.pods, probe.namespace, probe.name, { gracePeriodSeconds: 0 });
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  let objectGone = false;
  while (Date.now() < deadline) {
    if (!objectGone) {
      try {
        await client.get(R.pods, probe.namespace, probe.name);
      } catch (e) {
        if (isNotFound(e)) objectGone = true;
      }
    }
    if (objectGone && (!probe.netns || !existsSync(`/run/netns/${probe.netns}`))) return;
    await sleep(15);
  }
}

/** Removes probe Pods whose maker is gone (a diagnose killed with SIGKILL), or older than 10 minutes. */
export async function removeStaleProbes(client: Client, now = Date.now()): Promise<string[]> {
  const pods = (await client.list<Pod>(R.pods, undefined, { labelSelector: `${PROBE_LABEL}=true` })).items;
  const stale = pods.filter((p) => {
    const owner = Number(p.metadata?.annotations?.[PROBE_OWNER]);
    const age = now - Date.parse(p.metadata?.creationTimestamp ?? '');
    return owner !== process.pid && (!pidAlive(owner) || age > 10 * 60_000);
  });
  await Promise.all(stale.map((p) => client.delete(R.pods, p.metadata!.namespace!, p.metadata!.name!, { gracePeriodSeconds: 0 }).catch(() => undefined)));
  return stale.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`);
}
