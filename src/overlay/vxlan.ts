/**
 * The overlay agent of one node (flannel's vxlan backend, plan.ts says what it programs): it makes
 * the node's VXLAN device, publishes its VTEP on the Node object, and keeps the node namespace's
 * routes, neighbours and forwarding entries equal to the other machines' nodes, resyncing on every
 * Node change (a bounded loop: changes that arrive during a sync are folded into the next one).
 *
 * The device is created from this process's own network namespace — the machine's — directly into
 * the node namespace (`ip link add vxlan0 netns <node> type vxlan ... local <machine address>`): the
 * device lives in the node namespace, its UDP socket (port 8472) in the machine's, which is how
 * encapsulated packets leave the machine while nothing (no device, address, route or rule) is added
 * to the machine's namespace. Everything else runs inside the node namespace (`ip -n`, `bridge -n`).
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { run, runOk } from '../sys/command.js';
import { desiredPeers, networkAddress, overlayCommands, VXLAN_DEVICE, VXLAN_PORT, vniFor, vtepAnnotations, type DeviceState, type Peer } from './plan.js';

/** Options of {@link startOverlay}. */
export interface OverlayOptions {
  client: Client;
  nodeName: string;
  /** The node's namespace (it must exist). */
  netns: string;
  /** The node's Pod CIDR and the cluster's. */
  podCIDR: string;
  clusterCIDR: string;
  /** This machine's address that other machines reach (the VXLAN source; its UDP socket listens here). */
  publicIP: string;
  /**
   * The machine's network namespace, when it is not this process's own (tests that model machines
   * as namespaces). Default: this process's namespace, i.e. the machine the daemon runs on.
   */
  machineNetns?: string;
  onError?: (err: unknown) => void;
}

/** A running overlay agent. */
export interface Overlay {
  readonly vni: number;
  readonly mac: string;
  /** The peers programmed by the last successful sync. */
  peers(): readonly Peer[];
  /** Resolves when every Node change seen so far is in the kernel. */
  whenIdle(): Promise<void>;
  /** Stops watching; `remove` also deletes the device (and with it every route through it). */
  stop(opts?: { remove?: boolean }): Promise<void>;
}

const ipn = (netns: string, args: string[], input?: string) => runOk(['ip', '-n', netns, ...args], { input, timeoutMs: 30_000 });

/** `ip` in the machine's namespace: this process's own, or `machineNetns`. */
const ipMachine = (machineNetns: string | undefined, args: string[]): string[] => (machineNetns ? ['ip', '-n', machineNetns, ...args] : ['ip', ...args]);

/** The MTU of the machine's interface that holds `address` (1500 when it cannot be read). */
async function underlayMtu(address: string, machineNetns?: string): Promise<number> {
  const r = await run(ipMachine(machineNetns, ['-o', '-4', 'addr', 'show']));
  const dev = r.stdout.split('\n').find((l) => l.includes(` ${address}/`))?.split(/\s+/)[1];
  if (!dev) return 1500;
  const l = await run(ipMachine(machineNetns, ['-o', 'link', 'show', 'dev', dev]));
  const mtu = Number(/ mtu (\d+)/.exec(l.stdout)?.[1]);
  return mtu > 0 ? mtu : 1500;
}

/** Creates (or finds) the node's VXLAN device; returns its MAC. Idempotent: a device left by an earlier run is kept if it matches. */
export async function ensureVxlanDevice(netns: string, vni: number, publicIP: string, vtep: string, machineNetns?: string): Promise<string> {
  const show = await run(['ip', '-n', netns, '-d', '-o', 'link', 'show', 'dev', VXLAN_DEVICE]);
  const fits = show.code === 0 && show.stdout.includes(`vxlan id ${vni} `) && show.stdout.includes(`local ${publicIP} `);
  if (show.code === 0 && !fits) await ipn(netns, ['link', 'del', VXLAN_DEVICE]);
  if (!fits) {
    // The one command run in the machine's namespace: the device is created INTO the node namespace.
    // VXLAN adds 50 bytes of headers; a smaller MTU keeps encapsulated packets within the underlay's.
    const mtu = (await underlayMtu(publicIP, machineNetns)) - 50;
    await runOk(ipMachine(machineNetns, ['link', 'add', VXLAN_DEVICE, 'netns', netns, 'mtu', String(mtu), 'type', 'vxlan', 'id', String(vni),
      'local', publicIP, 'dstport', String(VXLAN_PORT), 'nolearning']));
  }
  await ipn(netns, ['-batch', '-'], `addr replace ${vtep}/32 dev ${VXLAN_DEVICE}\nlink set ${VXLAN_DEVICE} up\n`);
  const link = await ipn(netns, ['-o', 'link', 'show', 'dev', VXLAN_DEVICE]);
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1];
  if (!mac) throw new Error(`cannot read the MAC address of ${VXLAN_DEVICE} in ${netns}`);
  return mac;
}

/** What vxlan0 holds now. */
export async function readDeviceState(netns: string): Promise<DeviceState> {
  const d = VXLAN_DEVICE;
  const [routes, neigh, fdb] = await Promise.all([
    ipn(netns, ['-o', '-4', 'route', 'show', 'dev', d]),
    ipn(netns, ['-4', 'neigh', 'show', 'dev', d]),
    runOk(['bridge', '-n', netns, 'fdb', 'show', 'dev', d]),
  ]);
  const first = (s: string) => s.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((x): x is string => !!x);
  return {
    // Only the routes this agent makes (via a VTEP, onlink); the kernel's own prefix routes stay.
    routes: first(routes.split('\n').filter((l) => / via /.test(l)).join('\n')),
    neighbours: first(neigh),
    fdb: fdb.split('\n').flatMap((l) => {
      const m = /^([0-9a-f:]{17}) dst (\S+)(?: .*?vni (\d+))?/.exec(l.trim());
      return m && m[1] !== '00:00:00:00:00:00' ? [`${m[1]} ${m[2]}${m[3] ? ` ${m[3]}` : ''}`] : [];
    }),
  };
}

/** Starts the overlay agent of one node. Resolves once the device exists, the VTEP is published and the first sync ran. */
export async function startOverlay(o: OverlayOptions): Promise<Overlay> {
  const vni = vniFor(o.clusterCIDR, o.podCIDR);
  const vtep = networkAddress(o.podCIDR)!;
  const mac = await ensureVxlanDevice(o.netns, vni, o.publicIP, vtep, o.machineNetns);
  await o.client.patch(R.nodes, undefined, o.nodeName, 'application/merge-patch+json', { metadata: { annotations: vtepAnnotations(vni, mac, o.publicIP) } });

  const nodes = new Informer<Node>(o.client, R.nodes);
  let programmed: Peer[] = [];
  let stopped = false;
  let dirty = true;
  let running: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;

  const syncOnce = async (): Promise<void> => {
    const peers = desiredPeers(o.nodeName, o.publicIP, nodes.list());
    const { ip, bridge } = overlayCommands(peers, await readDeviceState(o.netns));
    if (bridge.length) await runOk(['bridge', '-n', o.netns, '-batch', '-'], { input: bridge.join('\n') + '\n' });
    if (ip.length) await ipn(o.netns, ['-batch', '-'], ip.join('\n') + '\n');
    programmed = peers;
  };
  const kick = (): Promise<void> => {
    dirty = true;
    running ??= (async () => {
      try {
        while (dirty && !stopped) {
          dirty = false;
          await syncOnce();
        }
      } catch (e) {
        o.onError?.(e);
        if (!stopped) { clearTimeout(retry); retry = setTimeout(() => { void kick(); }, 1000); retry.unref?.(); }
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  nodes.addHandlers({ onAdd: () => { if (nodes.hasSynced()) void kick(); }, onUpdate: () => { void kick(); }, onDelete: () => { void kick(); } });
  await nodes.start();
  await kick();
  return {
    vni, mac,
    peers: () => programmed,
    async whenIdle() { while (running || dirty) { await (running ?? kick()); } },
    async stop(opts = {}) {
      stopped = true;
      clearTimeout(retry);
      nodes.stop();
      await running?.catch(() => undefined);
      if (opts.remove) await run(['ip', '-n', o.netns, 'link', 'del', VXLAN_DEVICE]);
    },
  };
}
