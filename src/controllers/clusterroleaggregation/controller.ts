/**
 * ClusterRole aggregation controller: keeps the rules of every ClusterRole with an aggregationRule
 * (admin, edit, view, and any the user makes) equal to the union of the ClusterRoles it selects.
 * Any ClusterRole change re-checks every aggregated one (they may select it, or a role it selects).
 */
import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import { isNotFound } from '../../api/errors.js';
import { deepCopy } from '../../api/object.js';
import { R } from '../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { KeyedController } from '../keyed.js';
import { aggregatedRules, sameRules } from './aggregate.js';

export class ClusterRoleAggregationController extends KeyedController {
  readonly name = 'clusterrole-aggregation-controller';

  constructor(ctx: ControllerContext) {
    super(ctx, R.clusterroles, { workers: 1, baseDelayMs: 20, maxDelayMs: 5000 });
    const all = (): void => {
      if (!this.running) return;
      for (const r of ctx.informers.informer<ClusterRole>(R.clusterroles).list()) if (r.aggregationRule) this.enqueue(r.metadata!.name!);
    };
    ctx.informers.informer<ClusterRole>(R.clusterroles).addHandlers({ onAdd: all, onUpdate: all, onDelete: all });
  }

  async sync(name: string): Promise<void> {
    const informer = this.ctx.informers.informer<ClusterRole>(R.clusterroles);
    const role = informer.get(name);
    if (!role) return;
    const rules = aggregatedRules(role, informer.list());
    if (!rules || sameRules(rules, role.rules)) return;
    const next = deepCopy(role);
    next.rules = deepCopy(rules);
    try {
      await this.ctx.client.update(R.clusterroles, undefined, next);
    } catch (e) {
      if (!isNotFound(e)) throw e; // a Conflict is retried by the queue
    }
  }
}
