/**
 * Harness for the controller integration tests: a real in-process API core (MemoryStorage), the
 * controllers started against its client, a unique namespace, and a "node" the test plays (Node
 * object Ready; Pods marked Running + Ready with a podIP through the status subresource).
 * Nothing here touches the network: Pod IPs are only strings in API objects.
 */
import type { TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { R, type ResourceInfo } from '../../src/api/resources.js';
import type { Client } from '../../src/client/client.js';
import { createApiCore } from '../../src/apiserver/core.js';
import { Informer } from '../../src/client/informer.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { startControllers, type StartControllersOptions, type RunningControllers } from '../../src/controllers/manager.js';

export interface Harness {
  client: Client;
  ns: string;
  node: string;
  controllers: RunningControllers;
  /** Marks a Pod Running and Ready (or not) with an IP, as the node agent would. */
  setReady(name: string, ready: boolean, ip?: string): Promise<Pod>;
  /** Polls `fn` until it returns a truthy value (or throws after `ms`). */
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms?: number): Promise<T>;
  list<T extends KubeObject>(res: ResourceInfo, labelSelector?: string): Promise<T[]>;
}

let ipCounter = 10;

export async function setup(t: TestContext, opts: StartControllersOptions = {}): Promise<Harness> {
  const suffix = randomBytes(3).toString('hex');
  const core = await createApiCore({ storage: new MemoryStorage() });
  const client = core.client;
  const ns = `t-${suffix}`;
  await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const node = `node-${suffix}`;
  const n = await client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'kubernetes.io/hostname': node } } });
  await client.update<Node>(R.nodes, undefined, { ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } }, { subresource: 'status' });
  const controllers = await startControllers(client, opts);
  // The node's part in deletion: a Pod marked for graceful deletion is stopped and removed (grace 0).
  const kubelet = new Informer<Pod>(client, R.pods);
  const finish = (p: Pod) => {
    if (!p.metadata?.deletionTimestamp || !p.spec?.nodeName) return;
    client.delete(R.pods, p.metadata.namespace, p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => {});
  };
  kubelet.addHandlers({ onAdd: finish, onUpdate: (_a, b) => finish(b) });
  await kubelet.start();
  t.after(async () => {
    kubelet.stop();
    await controllers.stop();
    await core.close();
  });
  const h: Harness = {
    client, ns, node, controllers,
    async setReady(name, ready, ip) {
      for (let i = 0; ; i++) {
        const pod = await client.get<Pod>(R.pods, ns, name);
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        const podIP = ip ?? pod.status?.podIP ?? `10.244.0.${ipCounter++ % 250 + 2}`;
        const cond = (type: string, s: boolean) => ({ type, status: s ? 'True' : 'False', lastTransitionTime: now });
        try {
          return await client.update<Pod>(R.pods, ns, {
            ...pod, status: {
              ...(pod.status ?? {}), phase: 'Running', podIP, podIPs: [{ ip: podIP }], hostIP: '10.0.0.1',
              conditions: [cond('PodScheduled', true), cond('Initialized', true), cond('ContainersReady', ready), cond('Ready', ready)],
            },
          }, { subresource: 'status' });
        } catch (e) {
          if (i > 5) throw e;
        }
      }
    },
    async waitFor(what, fn, ms = 5000) {
      const deadline = Date.now() + ms;
      let last: unknown;
      for (;;) {
        try {
          const v = await fn();
          if (v) return v as never;
        } catch (e) { last = e; }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async list(res, labelSelector) {
      return (await client.list(res, ns, { labelSelector })).items as never;
    },
  };
  return h;
}
