/**
 * Node registration and heartbeat: the Node object (podCIDR, InternalIP, Ready condition,
 * capacity/allocatable, nodeInfo) and its Lease in kube-node-lease, renewed every `renewMs` (10 s
 * like the kubelet). `markNotReady` is called on stop so the Node shows NotReady.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';

/** What the Node object says about this node. */
export interface NodeIdentity {
  nodeName: string;
  podCIDR: string;
  internalIP: string;
  maxPods?: number;
  /** Extra labels (e.g. node-role.kubernetes.io/control-plane on the API server machine's nodes). */
  labels?: Record<string, string>;
}

function conditions(ready: boolean, now: string): NodeCondition[] {
  const ok = (type: string, reason: string, message: string): NodeCondition =>
    ({ type, status: 'False', reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  return [
    ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'node agent stopped', lastHeartbeatTime: now, lastTransitionTime: now },
  ];
}

function readId(p: string): string {
  try { return fs.readFileSync(p, 'utf8').trim(); } catch { return ''; }
}

/** The node's capacity (= allocatable): the machine's CPUs and memory. */
export function nodeResources(maxPods = 110): Record<string, string> {
  return { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: String(maxPods), 'ephemeral-storage': '10Gi' };
}

/** The Node object for this agent. */
export function nodeObject(id: NodeIdentity, ready: boolean, now = new Date().toISOString()): Node {
  const resources = nodeResources(id.maxPods ?? 110);
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: id.nodeName,
      labels: {
        'kubernetes.io/hostname': id.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': os.arch() === 'x64' ? 'amd64' : os.arch(),
        'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': os.arch() === 'x64' ? 'amd64' : os.arch(),
        ...id.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: id.podCIDR, podCIDRs: [id.podCIDR] },
    status: {
      capacity: resources, allocatable: resources,
      conditions: conditions(ready, now),
      addresses: [{ type: 'InternalIP', address: id.internalIP }, { type: 'Hostname', address: id.nodeName }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: readId('/etc/machine-id'), systemUUID: readId('/sys/class/dmi/id/product_uuid') || readId('/etc/machine-id'),
        bootID: readId('/proc/sys/kernel/random/boot_id'), kernelVersion: os.release(), osImage: 'clusterip node',
        containerRuntimeVersion: 'clusterip://0.1.0', kubeletVersion: 'v1.32.0', kubeProxyVersion: 'v1.32.0',
        operatingSystem: 'linux', architecture: os.arch() === 'x64' ? 'amd64' : os.arch(),
      },
    },
  };
}

/** Creates or refreshes the Node object (spec + status). */
export async function registerNode(client: Client, id: NodeIdentity, ready: boolean): Promise<Node> {
  const desired = nodeObject(id, ready);
  try {
    await client.create<Node>(R.nodes, undefined, desired);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    // The Node exists (a restart, or made by the join API): others write it too (node IPAM, the node
    // lifecycle controller's taints), so a conflict is read again and retried, as setNodeStatus does.
    for (let i = 0; ; i++) {
      const cur = await client.get<Node>(R.nodes, undefined, id.nodeName);
      try {
        await client.update<Node>(R.nodes, undefined, {
          ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, ...desired.metadata!.labels } }, spec: { ...cur.spec, ...desired.spec },
        });
        break;
      } catch (err) {
        if (!isConflict(err) || i >= 4) throw err;
      }
    }
  }
  return setNodeStatus(client, id, ready);
}

/** Writes the status subresource (Ready condition, addresses, capacity, nodeInfo). */
export async function setNodeStatus(client: Client, id: NodeIdentity, ready: boolean): Promise<Node> {
  const desired = nodeObject(id, ready);
  for (let i = 0; ; i++) {
    const cur = await client.get<Node>(R.nodes, undefined, id.nodeName);
    try {
      return await client.update<Node>(R.nodes, undefined, { ...cur, status: desired.status }, { subresource: 'status' });
    } catch (e) {
      if (!isConflict(e) || i >= 4) throw e;
    }
  }
}

/** Creates or renews the node's Lease. */
export async function renewLease(client: Client, nodeName: string, nodeUid: string | undefined, durationSeconds = 40): Promise<void> {
  const now = new Date().toISOString().replace('Z', '000Z');
  try {
    const lease = await client.get<Lease>(R.leases, 'kube-node-lease', nodeName);
    lease.spec = { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: now };
    await client.update(R.leases, 'kube-node-lease', lease);
  } catch (e) {
    if (isConflict(e)) return; // renewed by a concurrent call; next tick wins
    if (!isNotFound(e)) throw e;
    try {
      await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } });
    } catch { /* exists */ }
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: {
        name: nodeName, namespace: 'kube-node-lease',
        ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
      },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: now, acquireTime: now },
    };
    try { await client.create(R.leases, 'kube-node-lease', lease); } catch (err) { if (!isAlreadyExists(err)) throw err; }
  }
}
