/**
 * One node's announcer (MetalLB's speaker in layer-2 mode): the LoadBalancer addresses this node
 * was picked for (announce.ts) are added to its underlay interface as /32 addresses, so the node
 * answers ARP for them and outside hosts on the underlay send it the traffic, which the proxy's
 * rules then carry to the endpoints; addresses it is no longer picked for are removed. Only /32
 * addresses inside the pool are ever touched, and only on that one interface of this node's
 * namespace (never the host's). When `arping` (iputils-arping) is installed, a new address is
 * announced with one gratuitous ARP so neighbours learn the move at once; without it they learn it
 * when their ARP entry for the address goes stale (about half a minute on Linux).
 */
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Client } from '../../client/client.js';
import { Informer } from '../../client/informer.js';
import { R } from '../../api/resources.js';
import { run, type CommandResult } from '../../sys/command.js';
import { netnsArgv } from '../../sys/netns.js';
import { announcements } from './announce.js';
import type { AddressPool } from './pool.js';

export interface AnnouncerOptions {
  client: Client;
  nodeName: string;
  /** The node's network namespace. */
  netns: string;
  /** The node's interface on the underlay. Default eth1 (src/cluster/topology.ts). */
  interface?: string;
  pool: AddressPool;
  /** Runs a command in the node's namespace (tests record them). Default `ip netns exec <netns> ...`. */
  exec?: (argv: string[]) => Promise<CommandResult>;
  /** Told about every failed reconcile (default console.error); it is retried on the next change and every 10 s. */
  onError?: (err: Error) => void;
}

export interface Announcer {
  /** The addresses this node holds now. */
  held(): string[];
  /** Resolves when every change seen so far is applied. */
  whenIdle(): Promise<void>;
  /** Stops watching and removes the addresses it added. */
  stop(): Promise<void>;
}

const RETRY_MS = 10_000;

export async function startAnnouncer(opts: AnnouncerOptions): Promise<Announcer> {
  const dev = opts.interface ?? 'eth1';
  const exec = opts.exec ?? ((argv: string[]) => run(netnsArgv(opts.netns, argv)));
  const services = new Informer<Service>(opts.client, R.services, { sharedObjects: true });
  const nodes = new Informer<Node>(opts.client, R.nodes, { sharedObjects: true });
  const slices = new Informer<EndpointSlice>(opts.client, R.endpointslices, { sharedObjects: true });
  let held = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let dirty = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** The pool addresses on the interface now (an earlier run may have left some). */
  const current = async (): Promise<Set<string>> => {
    const r = await exec(['ip', '-4', '-o', 'addr', 'show', 'dev', dev]);
    if (r.code !== 0) throw new Error(`ip addr show dev ${dev} in ${opts.netns}: ${r.stderr.trim()}`);
    const out = new Set<string>();
    for (const m of r.stdout.matchAll(/ inet (\d+\.\d+\.\d+\.\d+)\/32 /g)) if (opts.pool.has(m[1]!)) out.add(m[1]!);
    return out;
  };

  const reconcile = async (): Promise<void> => {
    if (stopped) return;
    const want = new Set<string>();
    for (const [ip, node] of announcements(services.list(), nodes.list(), slices.list(), opts.pool)) if (node === opts.nodeName) want.add(ip);
    const have = await current();
    for (const ip of have) {
      if (want.has(ip)) continue;
      const r = await exec(['ip', 'addr', 'del', `${ip}/32`, 'dev', dev]);
      if (r.code !== 0 && !/Cannot assign/.test(r.stderr)) throw new Error(`ip addr del ${ip}/32 dev ${dev}: ${r.stderr.trim()}`);
    }
    for (const ip of want) {
      if (have.has(ip)) continue;
      const r = await exec(['ip', 'addr', 'add', `${ip}/32`, 'dev', dev]);
      if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip addr add ${ip}/32 dev ${dev}: ${r.stderr.trim()}`);
      // Best effort: tell the neighbours at once (no arping: they ask again when their entry is stale).
      await exec(['arping', '-U', '-c', '1', '-I', dev, ip]).catch(() => undefined);
    }
    held = want;
  };

  const kick = (): void => {
    if (stopped || !services.hasSynced() || !nodes.hasSynced() || !slices.hasSynced()) return;
    if (dirty) return;
    dirty = true;
    chain = chain.then(async () => {
      dirty = false;
      clearTimeout(timer);
      try {
        await reconcile();
      } catch (e) {
        (opts.onError ?? ((err: Error) => console.error(`announcer ${opts.nodeName}:`, err.message)))(e as Error);
        // Retried later even if nothing changes (a transient failure must not leave the address out).
        timer = setTimeout(kick, RETRY_MS);
        timer.unref();
      }
    });
  };
  services.addHandlers({ onAdd: kick, onUpdate: kick, onDelete: kick });
  nodes.addHandlers({ onAdd: kick, onUpdate: kick, onDelete: kick });
  // Only the endpoints of LoadBalancer Services with externalTrafficPolicy Local decide anything.
  const mattersFor = (sl: EndpointSlice): boolean => {
    const svc = services.get(`${sl.metadata?.namespace ?? ''}/${sl.metadata?.labels?.['kubernetes.io/service-name'] ?? ''}`);
    return svc?.spec?.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';
  };
  slices.addHandlers({
    onAdd: (sl) => { if (mattersFor(sl)) kick(); },
    onUpdate: (_a, sl) => { if (mattersFor(sl)) kick(); },
    onDelete: (sl) => { if (mattersFor(sl)) kick(); },
  });
  await Promise.all([services.start(), nodes.start(), slices.start()]);
  kick();

  return {
    held: () => [...held],
    async whenIdle() {
      let seen: Promise<void>;
      do { seen = chain; await seen; } while (seen !== chain || dirty);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      services.stop(); nodes.stop(); slices.stop();
      await chain;
      for (const ip of await current().catch(() => new Set<string>())) await exec(['ip', 'addr', 'del', `${ip}/32`, 'dev', dev]).catch(() => undefined);
      held = new Set();
    },
  };
}
