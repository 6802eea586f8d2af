/**
 * Node IPAM controller (`--allocate-node-cidrs`): gives every Node without `spec.podCIDR` a block
 * of the cluster CIDR (plan.ts), written with the Node's resourceVersion so a concurrent change
 * retries. Blocks written but not yet back through the informer are remembered, so two Nodes
 * joining at once never get the same block. A full range is a Warning Event `CIDRNotAvailable` on
 * the Node (Kubernetes' reason), retried when Nodes change.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import type { EventRecorder } from '../events.js';
import { KeyedController } from '../keyed.js';
import { planCidrs } from './plan.js';

export interface NodeIpamOptions {
  /** The cluster's Pod CIDR, e.g. 10.244.0.0/16. */
  clusterCIDR: string;
  /** Size of each node's block. Default 24. */
  nodeCIDRMaskSize?: number;
}

export class NodeIpamController extends KeyedController {
  readonly name = 'node-ipam-controller';
  private readonly recorder: EventRecorder;
  /** node name → block written and not yet seen in the cache. */
  private readonly assumed = new Map<string, string>();

  constructor(ctx: ControllerContext, private readonly o: NodeIpamOptions) {
    super(ctx, R.nodes, { workers: 1, baseDelayMs: 20, maxDelayMs: 5000 });
    this.recorder = ctx.recorder('node-ipam-controller');
    const inf = ctx.informers.informer<Node>(R.nodes);
    inf.addHandlers({
      onAdd: (n) => this.enqueue(n.metadata!.name!),
      onUpdate: (_a, n) => { if (n.spec?.podCIDR) this.assumed.delete(n.metadata!.name!); else this.enqueue(n.metadata!.name!); },
      // A deleted Node frees its block (nothing to write: the block is simply no longer occupied).
      onDelete: (n) => {
        this.assumed.delete(n.metadata!.name!);
        for (const m of inf.list()) if (!m.spec?.podCIDR) this.enqueue(m.metadata!.name!);
      },
    });
  }

  async sync(name: string): Promise<void> {
    const inf = this.ctx.informers.informer<Node>(R.nodes);
    const node = inf.get(name);
    if (!node || node.spec?.podCIDR || this.assumed.has(name)) return;
    const occupied = [...inf.list().flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])), ...this.assumed.values()];
    const plan = planCidrs(this.o.clusterCIDR, this.o.nodeCIDRMaskSize ?? 24, occupied, [name]);
    const cidr = plan.assign.get(name);
    if (!cidr) {
      this.recorder.event(node, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      return;
    }
    this.assumed.set(name, cidr);
    try {
      const cur = await this.ctx.client.get<Node>(R.nodes, undefined, name);
      if (cur.spec?.podCIDR) { this.assumed.delete(name); return; }
      await this.ctx.client.update<Node>(R.nodes, undefined, { ...cur, spec: { ...cur.spec, podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (e) {
      this.assumed.delete(name);
      if (isNotFound(e)) return;
      throw e; // a conflict retries with the fresh Node
    }
  }
}
