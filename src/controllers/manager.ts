/**
 * Starts every controller over one set of shared informers: the informers are created by the
 * controllers' constructors, started together, and only once all have synced are the controllers
 * run — none acts on partial state.
 */
import type { Client } from '../client/client.js';
import { makeContext, type Controller, type ControllerObserver } from './context.js';
import { DeploymentController } from './deployment/controller.js';
import { EndpointsController } from './endpoints/controller.js';
import { EndpointSliceController } from './endpointslice/controller.js';
import { EndpointSliceMirroringController, MIRRORING_COMPONENT } from './endpointslicemirroring/controller.js';
import { GarbageCollector } from './gc/gc.js';
import { SharedInformers } from './informers.js';
import { NamespaceController } from './namespace/controller.js';
import { NodeIpamController, type NodeIpamOptions } from './nodeipam/controller.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './nodelifecycle/controller.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { Scheduler } from './scheduler/scheduler.js';
import { StatefulSetController } from './statefulset/controller.js';
import { JobController } from './job/controller.js';
import { CronJobController } from './cronjob/controller.js';
import { DaemonSetController } from './daemonset/controller.js';
import { DisruptionController } from './disruption/controller.js';
import { HpaController } from './hpa/controller.js';
import { ClusterRoleAggregationController } from './clusterroleaggregation/controller.js';
import { RootCACertPublisher } from './rootcacert/controller.js';
import { ServiceAccountsController } from './serviceaccount/controller.js';
import { TokensController, type LegacyTokenSigner } from './serviceaccount/tokens.js';
import { LB_CONTROLLER, LoadBalancerController } from './loadbalancer/controller.js';
import type { AddressPool } from './loadbalancer/pool.js';

/** Names accepted by `StartControllersOptions.enable`. */
export type ControllerName = 'endpointslice' | 'endpointslicemirroring' | 'endpoints' | 'replicaset' | 'deployment' | 'statefulset' | 'scheduler' | 'garbagecollector' | 'namespace'
  | 'job' | 'cronjob' | 'daemonset' | 'disruption' | 'horizontalpodautoscaling'
  | 'serviceaccount' | 'serviceaccount-token' | 'root-ca-cert-publisher' | 'clusterrole-aggregation' | 'loadbalancer' | 'nodeipam' | 'nodelifecycle';

/**
 * The controllers started by default. Node IPAM and node lifecycle are asked for explicitly
 * (`enable`), as `--allocate-node-cidrs` is in Kubernetes: they need the cluster's CIDR and
 * heartbeating node agents, which tests of the other controllers do not have.
 */
export const ALL_CONTROLLERS: readonly ControllerName[] = ['endpointslice', 'endpointslicemirroring', 'endpoints', 'replicaset', 'deployment', 'statefulset', 'scheduler', 'garbagecollector', 'namespace',
  'job', 'cronjob', 'daemonset', 'disruption', 'horizontalpodautoscaling',
  'serviceaccount', 'serviceaccount-token', 'root-ca-cert-publisher', 'clusterrole-aggregation', 'loadbalancer'];

export interface StartControllersOptions {
  /** Which controllers to run. Default: all. */
  enable?: readonly ControllerName[];
  /** Injected clock. Default: wall clock. */
  now?: () => Date;
  /** EndpointSlice capacity. Default 100. */
  maxEndpointsPerSlice?: number;
  /** Observer of the controllers' writes (the trace recorder). */
  observer?: ControllerObserver;
  /** Job replacement-Pod backoff base in ms (Kubernetes: 10 000, doubling, capped at 6 min). */
  jobBackoffBaseMs?: number;
  /** HPA sync period in ms (kube-controller-manager's --horizontal-pod-autoscaler-sync-period, 15 s). */
  hpaSyncPeriodMs?: number;
  /**
   * The cluster CA and a legacy-token signer: needed by root-ca-cert-publisher (kube-root-ca.crt in
   * every namespace) and serviceaccount-token (token Secrets); without them those two do not run.
   */
  serviceAccounts?: { caCert: string; signLegacyToken: LegacyTokenSigner };
  /** Node IPAM (with 'nodeipam'): the cluster's Pod CIDR and the size of each node's block. */
  nodeIpam?: NodeIpamOptions;
  /** Node lifecycle (with 'nodelifecycle'): grace period, eviction timeout. */
  nodeLifecycle?: NodeLifecycleOptions;
  /** The LoadBalancer address pool; without it no load-balancer controller runs (Services stay `<pending>`). */
  loadBalancerPool?: AddressPool;
}

/** The running controllers. */
export interface RunningControllers {
  /** Resolves when every controller's queue is empty and pending events are written (tests). */
  idle(): Promise<void>;
  /** Stops all controllers and informers; waits for pending event writes. */
  stop(): Promise<void>;
  readonly controllers: readonly Controller[];
}

/** Starts the controllers against `client`. Resolves once informers have synced and work began. */
export async function startControllers(client: Client, opts: StartControllersOptions = {}): Promise<RunningControllers> {
  const informers = new SharedInformers(client);
  const ctx = makeContext(client, informers, opts.now, opts.observer);
  const enable = new Set(opts.enable ?? ALL_CONTROLLERS);
  const controllers: Controller[] = [];
  if (enable.has('endpointslice')) controllers.push(new EndpointSliceController(ctx, { maxEndpointsPerSlice: opts.maxEndpointsPerSlice }));
  if (enable.has('endpointslicemirroring')) controllers.push(new EndpointSliceMirroringController(ctx));
  if (enable.has('endpoints')) controllers.push(new EndpointsController(ctx));
  if (enable.has('replicaset')) controllers.push(new ReplicaSetController(ctx));
  if (enable.has('deployment')) controllers.push(new DeploymentController(ctx));
  if (enable.has('statefulset')) controllers.push(new StatefulSetController(ctx));
  if (enable.has('scheduler')) controllers.push(new Scheduler(ctx));
  if (enable.has('garbagecollector')) controllers.push(new GarbageCollector(ctx));
  if (enable.has('namespace')) controllers.push(new NamespaceController(ctx));
  if (enable.has('job')) controllers.push(new JobController(ctx, { backoffBaseMs: opts.jobBackoffBaseMs }));
  if (enable.has('cronjob')) controllers.push(new CronJobController(ctx));
  if (enable.has('daemonset')) controllers.push(new DaemonSetController(ctx));
  if (enable.has('disruption')) controllers.push(new DisruptionController(ctx));
  if (enable.has('horizontalpodautoscaling')) controllers.push(new HpaController(ctx, { syncPeriodMs: opts.hpaSyncPeriodMs }));
  if (enable.has('serviceaccount')) controllers.push(new ServiceAccountsController(ctx));
  if (enable.has('clusterrole-aggregation')) controllers.push(new ClusterRoleAggregationController(ctx));
  const sa = opts.serviceAccounts;
  if (sa && enable.has('root-ca-cert-publisher')) controllers.push(new RootCACertPublisher(ctx, sa.caCert));
  if (sa && enable.has('serviceaccount-token')) controllers.push(new TokensController(ctx, sa.signLegacyToken, sa.caCert));
  if (enable.has('nodeipam')) {
    if (!opts.nodeIpam) throw new TypeError('the nodeipam controller needs nodeIpam.clusterCIDR');
    controllers.push(new NodeIpamController(ctx, opts.nodeIpam));
  }
  if (enable.has('nodelifecycle')) controllers.push(new NodeLifecycleController(ctx, opts.nodeLifecycle));
  if (enable.has('loadbalancer') && opts.loadBalancerPool) controllers.push(new LoadBalancerController(ctx, opts.loadBalancerPool));
  await informers.start();
  for (const c of controllers) c.run();
  let stopped = false;
  const flushEvents = async () => {
    for (const comp of ['endpointslice-controller', MIRRORING_COMPONENT, 'replicaset-controller', 'deployment-controller', 'statefulset-controller', 'default-scheduler',
      'job-controller', 'cronjob-controller', 'daemonset-controller', 'horizontal-pod-autoscaler', LB_CONTROLLER, 'node-ipam-controller', 'node-controller']) {
      await ctx.recorder(comp).flush();
    }
  };
  return {
    controllers,
    async idle() {
      // Two passes: one controller's writes can queue work for another.
      for (let i = 0; i < 3; i++) {
        await Promise.all(controllers.map((c) => c.whenIdle()));
        await flushEvents();
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.all(controllers.map((c) => c.whenIdle()));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of controllers) c.stop();
      informers.stop();
      await flushEvents();
    },
  };
}
