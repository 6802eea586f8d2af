/** `kubectl get namespaces` (NAME STATUS AGE) and `kubectl get nodes` (NAME STATUS ROLES AGE VERSION + wide). */
import type { Namespace, Node } from 'kubernetes-types/core/v1.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

/** Printer for core/v1 Namespace. */
export const namespacePrinter: Printer<Namespace> = {
  columns: [NAME_COLUMN, col('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  row: (ns, now) => ({ cells: [ns.metadata?.name ?? '', ns.status?.phase ?? '', ageSince(ns.metadata?.creationTimestamp, now)] }),
};

/** printers.go findNodeRoles: `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) { const r = k.slice('node-role.kubernetes.io/'.length); if (r) roles.add(r); }
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

/** Node STATUS: Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned. */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const status = ready ? [ready.status === 'True' ? 'Ready' : 'NotReady'] : ['Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

const SYS = 'io.k8s.api.core.v1.NodeSystemInfo';
const address = (node: Node, type: string): string => node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';

/** Printer for core/v1 Node. */
export const nodePrinter: Printer<Node> = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    col('Version', 'string', doc(SYS, 'kubeletVersion')),
    col('Internal-IP', 'string', doc('io.k8s.api.core.v1.NodeStatus', 'addresses'), 1),
    col('External-IP', 'string', doc('io.k8s.api.core.v1.NodeStatus', 'addresses'), 1),
    col('OS-Image', 'string', doc(SYS, 'osImage'), 1),
    col('Kernel-Version', 'string', doc(SYS, 'kernelVersion'), 1),
    col('Container-Runtime', 'string', doc(SYS, 'containerRuntimeVersion'), 1),
  ],
  row(node, now) {
    const info = node.status?.nodeInfo;
    return {
      cells: [node.metadata?.name ?? '', nodeStatus(node), nodeRoles(node).join(',') || '<none>', ageSince(node.metadata?.creationTimestamp, now),
        info?.kubeletVersion ?? '', address(node, 'InternalIP'), address(node, 'ExternalIP'),
        info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>'],
    };
  },
};
