/**
 * Which strategy each resource uses: the kinds with rules of their own (strategies/<kind>.ts), the
 * generic one for the rest. One Strategy object per resource, built once.
 */
import type { ResourceInfo } from '../../api/resources.js';
import type { ServiceIPs } from '../ipallocator/service.js';
import type { TokenRequests } from '../auth/tokenrequest.js';
import { secretStrategy, serviceAccountStrategy } from './strategies/auth.js';
import type { ServiceNodePorts } from '../portallocator/service.js';
import { workloadStrategy } from './strategies/apps.js';
import { crdStrategy } from './strategies/crds.js';
import { jobStrategy } from './strategies/jobs.js';
import { eventStrategy } from './strategies/events.js';
import { namespaceStrategy } from './strategies/namespaces.js';
import { nodeStrategy } from './strategies/nodes.js';
import { podStrategy } from './strategies/pods.js';
import { serviceStrategy } from './strategies/services.js';
import { genericStrategy, type Strategy } from './strategy.js';

export interface StrategyDeps {
  /** ClusterIP allocation for Services (absent: Services get no IP — unit tests only). */
  serviceIPs?: ServiceIPs;
  /** NodePort allocation for Services (absent: NodePorts are stored as given). */
  serviceNodePorts?: ServiceNodePorts;
  /** Allow Services to set spec.externalIPs (default false: DenyServiceExternalIPs). */
  allowExternalIPs?: boolean;
  /** Strategies installed at run time (custom resources), by `group/plural`; consulted first. */
  custom?: ReadonlyMap<string, Strategy>;
  /** serviceaccounts/NAME/token (absent: 404). */
  tokenRequests?: TokenRequests;
}

type Factory = (info: ResourceInfo, deps: StrategyDeps) => Strategy;

/** Core-group and apps kinds with their own rules, by group/plural. */
const KINDS: Record<string, Factory> = {
  '/pods': (info) => podStrategy(info),
  '/services': (info, deps) => serviceStrategy(info, { serviceIPs: deps.serviceIPs, nodePorts: deps.serviceNodePorts, allowExternalIPs: deps.allowExternalIPs }),
  '/namespaces': (info) => namespaceStrategy(info),
  '/nodes': (info) => nodeStrategy(info),
  '/events': (info) => eventStrategy(info),
  'apps/deployments': (info) => workloadStrategy(info),
  'apps/replicasets': (info) => workloadStrategy(info, ['status.replicas']),
  'apps/statefulsets': (info) => workloadStrategy(info),
  'apps/daemonsets': (info) => workloadStrategy(info),
  'batch/jobs': (info) => jobStrategy(info),
  'batch/cronjobs': (info) => workloadStrategy(info),
  'policy/poddisruptionbudgets': (info) => workloadStrategy(info),
  'autoscaling/horizontalpodautoscalers': (info) => workloadStrategy(info),
  'apiextensions.k8s.io/customresourcedefinitions': (info) => crdStrategy(info),
  // networkPolicyStrategy: metadata.generation starts at 1 and is bumped by spec changes (no status).
  'networking.k8s.io/networkpolicies': (info) => ({ ...genericStrategy(info), tracksGeneration: true }),
  '/serviceaccounts': (info, deps) => serviceAccountStrategy(info, deps.tokenRequests),
  '/secrets': (info) => secretStrategy(info),
};

/** Returns the lookup `info → Strategy` for one registry. */
export function strategies(deps: StrategyDeps): (info: ResourceInfo) => Strategy {
  const byKey = new Map<string, Strategy>();
  // The catalog's ResourceInfo objects are shared, so the lookup is by identity first.
  const byInfo = new Map<ResourceInfo, Strategy>();
  return (info) => {
    let s = byInfo.get(info);
    if (s) return s;
    const key = `${info.group}/${info.plural}`;
    const custom = deps.custom?.get(key);
    if (custom) { byInfo.set(info, custom); return custom; }
    s = byKey.get(key);
    if (!s) byKey.set(key, s = (KINDS[key] ?? genericStrategy)(info, deps));
    byInfo.set(info, s);
    return s;
  };
}
