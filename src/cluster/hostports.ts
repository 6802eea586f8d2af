/**
 * `clusterip up --host-nodeports` (opt-in): every TCP NodePort also answers on 127.0.0.1:<nodePort>
 * of this machine, the way `kubectl port-forward` gives a local port, so a browser or curl on the
 * machine reaches a NodePort Service without `clusterip outside`. Each accepted connection is
 * carried by a connection made from the cluster's outside host namespace (dial.ts): the
 * packets to the node are sent from there, never from the machine's own namespace, and they take
 * the NodePort path a host on the underlay takes (the node's rules pick the endpoint, load
 * balancing included). Nothing is added to the host's namespace but these loopback listeners.
 *
 * A port already in use on 127.0.0.1 is skipped and said once. UDP NodePorts are not forwarded.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { R } from '../api/resources.js';
import { netnsDial } from './dial.js';

export interface HostNodePortsOptions {
  client: Client;
  /** The cluster's outside host namespace, where the connections to the node are made. */
  outsideNetns: string;
  /** The node address the NodePorts are reached at. */
  nodeIP: string;
  log?: (line: string) => void;
}

export interface HostNodePorts {
  /** The NodePorts listening on 127.0.0.1 now. */
  ports(): number[];
  stop(): Promise<void>;
}

/** TCP NodePorts of a Service (NodePort and LoadBalancer types). */
function tcpNodePorts(svc: Service): number[] {
  const t = svc.spec?.type;
  if (t !== 'NodePort' && t !== 'LoadBalancer') return [];
  return (svc.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' && p.nodePort).map((p) => p.nodePort!);
}

export async function startHostNodePorts(opts: HostNodePortsOptions): Promise<HostNodePorts> {
  const log = opts.log ?? (() => undefined);
  const servers = new Map<number, Server>();
  const refused = new Set<number>();
  const open = new Set<Socket>();
  const services = new Informer<Service>(opts.client, R.services, { sharedObjects: true });

  const carry = (port: number, c: Socket): void => {
    open.add(c);
    const up = netnsDial(opts.outsideNetns, opts.nodeIP, port);
    c.pipe(up);
    up.pipe(c);
    const end = (): void => { open.delete(c); c.destroy(); up.destroy(); };
    up.on('error', end);
    up.on('close', end);
    c.on('error', end);
    c.on('close', end);
  };

  const sync = (): void => {
    const want = new Set(services.list().flatMap(tcpNodePorts));
    for (const [port, s] of servers) if (!want.has(port)) { s.close(); servers.delete(port); }
    for (const port of want) {
      if (servers.has(port) || refused.has(port)) continue;
      const s = createServer((c) => carry(port, c));
      servers.set(port, s);
      s.once('error', (e: NodeJS.ErrnoException) => {
        servers.delete(port);
        refused.add(port);
        log(`! NodePort ${port} not forwarded from 127.0.0.1: ${e.code === 'EADDRINUSE' ? 'the port is in use on this machine' : e.message}`);
      });
      s.listen(port, '127.0.0.1');
    }
  };
  services.addHandlers({ onAdd: sync, onUpdate: sync, onDelete: sync });
  await services.start();
  sync();
  return {
    ports: () => [...servers.keys()].sort((a, b) => a - b),
    async stop() {
      services.stop();
      for (const c of open) c.destroy();
      await Promise.all([...servers.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
      servers.clear();
    },
  };
}
