/**
 * The probe of `clusterip diagnose`: a real, short-lived Pod in the namespace being diagnosed
 * (image pause), created through the API so the scheduler and the node agent place it exactly like
 * any Pod of that namespace — same IPAM (no race with the agent over addresses), same bridge port,
 * same resolv.conf search path, same rules on its node. Checks then run inside its namespaces
 * (`nsenter -t <pid> -n -m`). It is deleted when the diagnosis ends, also on Ctrl-C; a probe left
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
import { pidAlive } from '../sys/process.js';
import type { ClusterView } from './clusterview.js';
import { runCommand } from './exec.js';

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
  /** A process inside it (for `nsenter -t <pid> -n -m`: the Pod's network and mount namespaces). */
  pid: number;
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

/**
 * A process of the sandbox in `netns` whose mount namespace already has the Pod's /etc/resolv.conf
 * bound in (the node agent's holder does that last, after the network is set up): then the Pod's
 * network and resolver are ready to probe. Read from /proc, no process started. `skip`: pids that
 * existed before the Pod was created, not looked at — the sandbox's processes are all newer. A full
 * pass costs ~1.7 ms of CPU with 200 processes and the placement polls every 10 ms while the node
 * agent, on the same CPUs, builds the sandbox. (Only older pids can be skipped: the holder is
 * started as `ip netns exec … unshare … sh`, each exec'ing in the same pid, so a new pid seen outside
 * the namespace may be in it at the next poll.)
 */
export function readySandboxPid(netns: string, skip?: ReadonlySet<string>): number | undefined {
  let ino: number;
  try { ino = statSync(`/run/netns/${netns}`).ino; } catch { return undefined; }
  const want = `net:[${ino}]`;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || skip?.has(pid)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== want) continue;
      if (readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').some((l) => l.split(' ')[4] === '/etc/resolv.conf')) return Number(pid);
    } catch { /* gone */ }
  }
  return undefined;
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
  // The probe is usable once its sandbox is: the network namespace with a process holding the Pod's
  // resolv.conf. That comes before the container has started and the status says Running.
  const netns = cluster.sandboxNetns(uid);
  let lastApi = 0;
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new ProbeNotPlacedError('interrupted', name);
      const pid = existsSync(`/run/netns/${netns}`) ? readySandboxPid(netns, older) : undefined;
      if (pid) {
        const pod = await client.get<Pod>(R.pods, namespace, name);
        const ip = pod.status?.podIP ?? await addressIn(netns, opts.signal);
        return { namespace, name, uid, ip: ip ?? '?', node: pod.spec?.nodeName ?? '?', netns, pid, placedMs: Math.round(performance.now() - t0) };
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
