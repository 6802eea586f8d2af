/**
 * Server-side defaulting, as Kubernetes does it (pkg/apis/<group>/v1/defaults.go, the generated
 * declarative defaults, and the few defaults the registry strategies add: Service ipFamilies /
 * ipFamilyPolicy, Namespace finalizers and its metadata.name label). Called by the registry on
 * create and update before validation. Mutates and returns `obj` (the registry passes a private
 * copy). Idempotent: defaulting a defaulted object changes nothing.
 *
 * clusterIP allocation is not done here: the allocator fills spec.clusterIP(s).
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { Container, Endpoints, Namespace, Pod, PodSpec, PodTemplateSpec, Probe, Service, Volume } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ClusterRoleBinding, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { defaultBinding } from './rbac.js';
import { defaultSecret } from './secret.js';
import { isIPv4 } from './service.js';
import { checkTypes, normalizeNulls } from './typecheck.js';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { defaultCrd } from './crd.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { defaultNetworkPolicy } from './networking.js';
import { defaultCronJob, defaultDaemonSet, defaultHpa, defaultJob } from './workloads.js';

/** Default ClientIP session affinity timeout (3 hours), as v1.DefaultClientIPServiceAffinitySeconds. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

/** The image tag Kubernetes' parsers.ParseImageName would report ("latest" when none is given). */
export function imageTag(image: string): string {
  const noDigest = image.split('@')[0];
  if (image.includes('@') && !/:[^/]+$/.test(noDigest)) return ''; // digest only: not "latest"
  const lastSlash = noDigest.lastIndexOf('/');
  const lastColon = noDigest.lastIndexOf(':');
  return lastColon > lastSlash ? noDigest.slice(lastColon + 1) : 'latest';
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHTTPGet(p.httpGet);
}

function defaultHTTPGet(h: { path?: string; scheme?: string } | undefined): void {
  if (!h) return;
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

function defaultContainer(c: Container): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const port of c.ports ?? []) if (!port.protocol) port.protocol = 'TCP';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultHTTPGet(c.lifecycle?.postStart?.httpGet);
  defaultHTTPGet(c.lifecycle?.preStop?.httpGet);
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef && !e.valueFrom.fieldRef.apiVersion) e.valueFrom.fieldRef.apiVersion = 'v1';
}

function defaultVolume(v: Volume): void {
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = 420;
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = 420;
  if (v.downwardAPI && v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = 420;
  if (v.projected && v.projected.defaultMode === undefined) v.projected.defaultMode = 420;
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  for (const item of v.downwardAPI?.items ?? []) if (item.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
  for (const src of v.projected?.sources ?? []) {
    for (const item of src.downwardAPI?.items ?? []) if (item.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
    // SetDefaults_ServiceAccountTokenProjection: one hour.
    if (src.serviceAccountToken && (src.serviceAccountToken.expirationSeconds === undefined || src.serviceAccountToken.expirationSeconds === null)) {
      src.serviceAccountToken.expirationSeconds = 3600;
    }
  }
}

/** SetDefaults_PodSpec plus everything defaulted inside it (containers, probes, volumes). */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!spec.securityContext) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c as Container);
  for (const v of spec.volumes ?? []) defaultVolume(v);
  if (spec.hostNetwork) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const p of c.ports ?? []) if (!p.hostPort) p.hostPort = p.containerPort;
    }
  }
}

function defaultTemplate(t: PodTemplateSpec | undefined): void {
  if (t?.spec) defaultPodSpec(t.spec);
}

function defaultPod(pod: Pod): void {
  if (!pod.spec) return;
  // Requests default to limits (SetDefaults_Pod, not for templates).
  for (const c of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])]) {
    const limits = c.resources?.limits;
    if (limits) {
      c.resources!.requests ??= {};
      for (const [k, v] of Object.entries(limits)) if (!(k in c.resources!.requests!)) c.resources!.requests![k] = v;
    }
  }
  if (pod.spec.enableServiceLinks === undefined || pod.spec.enableServiceLinks === null) pod.spec.enableServiceLinks = true;
  defaultPodSpec(pod.spec);
}

function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? undefined) === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of spec.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  const externallyAccessible = spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
  if (externallyAccessible && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (!spec.internalTrafficPolicy && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  if (spec.type === 'ExternalName') return;

  // The registry keeps clusterIP and clusterIPs in step (strategy normalizeClusterIPs).
  if (spec.clusterIP && !(spec.clusterIPs ?? []).length) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && (spec.clusterIPs ?? []).length) spec.clusterIP = spec.clusterIPs![0];

  // ipFamilyPolicy / ipFamilies as the service allocator infers them on a single-stack IPv4 cluster.
  const headlessSelectorless = spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0;
  if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
  const families = spec.ipFamilies ?? [];
  (spec.clusterIPs ?? []).forEach((ip, i) => {
    if (ip === 'None' || i < families.length) return;
    families.push(isIPv4(ip) ? 'IPv4' : 'IPv6');
  });
  if (families.length === 0) families.push('IPv4');
  // Headless + selectorless with a dual-stack policy lists both families, even on a single-stack cluster.
  if (headlessSelectorless && families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  spec.ipFamilies = families;
}

function defaultNamespace(ns: Namespace): void {
  const name = ns.metadata?.name;
  if (name) {
    ns.metadata!.labels ??= {};
    ns.metadata!.labels['kubernetes.io/metadata.name'] = name;
  }
  ns.spec ??= {};
  if (!ns.spec.finalizers) ns.spec.finalizers = ['kubernetes'];
  ns.status ??= {};
  if (!ns.status.phase) ns.status.phase = 'Active';
}

function defaultDeployment(d: Deployment): void {
  const spec = (d.spec ??= {} as NonNullable<Deployment['spec']>);
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  const st = (spec.strategy ??= {});
  if (!st.type) st.type = 'RollingUpdate';
  if (st.type === 'RollingUpdate') {
    st.rollingUpdate ??= {};
    if (st.rollingUpdate.maxUnavailable === undefined || st.rollingUpdate.maxUnavailable === null) st.rollingUpdate.maxUnavailable = '25%';
    if (st.rollingUpdate.maxSurge === undefined || st.rollingUpdate.maxSurge === null) st.rollingUpdate.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
  defaultTemplate(spec.template);
}

function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = (rs.spec ??= {} as NonNullable<ReplicaSet['spec']>);
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  defaultTemplate(spec.template);
}

function defaultStatefulSet(ss: StatefulSet): void {
  const spec = (ss.spec ??= {} as NonNullable<StatefulSet['spec']>);
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  spec.updateStrategy ??= {};
  if (!spec.updateStrategy.type) {
    spec.updateStrategy.type = 'RollingUpdate';
    spec.updateStrategy.rollingUpdate ??= {};
  }
  const ru = spec.updateStrategy.rollingUpdate;
  if (spec.updateStrategy.type === 'RollingUpdate' && ru && (ru.partition === undefined || ru.partition === null)) ru.partition = 0;
  const pvc = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  if (!pvc.whenDeleted) pvc.whenDeleted = 'Retain';
  if (!pvc.whenScaled) pvc.whenScaled = 'Retain';
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultTemplate(spec.template);
}

function defaultEndpointSlice(es: EndpointSlice): void {
  for (const p of es.ports ?? []) {
    if (p.name === undefined || p.name === null) p.name = '';
    if (!p.protocol) p.protocol = 'TCP';
  }
}

function defaultEndpoints(ep: Endpoints): void {
  for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
}

/**
 * Applies the kind's defaults to `obj` (mutated and returned). First rejects values of the wrong
 * JSON type with Kubernetes' decoding error (400), as the typed decoder would before defaulting.
 */
export function applyDefaults<T extends KubeObject>(info: ResourceInfo, obj: T): T {
  checkTypes(info, obj);
  normalizeNulls(info, obj);
  switch (`${info.group}/${info.kind}`) {
    case '/Service': defaultService(obj as Service); break;
    case '/Pod': defaultPod(obj as Pod); break;
    case '/Namespace': defaultNamespace(obj as Namespace); break;
    case '/Endpoints': defaultEndpoints(obj as Endpoints); break;
    case 'apps/Deployment': defaultDeployment(obj as Deployment); break;
    case 'apps/ReplicaSet': defaultReplicaSet(obj as ReplicaSet); break;
    case 'apps/StatefulSet': defaultStatefulSet(obj as StatefulSet); break;
    case 'discovery.k8s.io/EndpointSlice': defaultEndpointSlice(obj as unknown as EndpointSlice); break;
    case 'batch/Job': defaultJob(obj as Job); break;
    case 'batch/CronJob': defaultCronJob(obj as CronJob); break;
    case 'apps/DaemonSet': defaultDaemonSet(obj as DaemonSet); break;
    case 'autoscaling/HorizontalPodAutoscaler': defaultHpa(obj as unknown as HorizontalPodAutoscaler); break;
    case 'apiextensions.k8s.io/CustomResourceDefinition': defaultCrd(obj as unknown as CustomResourceDefinition); break;
    case 'networking.k8s.io/NetworkPolicy': defaultNetworkPolicy(obj as unknown as NetworkPolicy); break;
    case '/Secret': defaultSecret(obj as unknown as Secret); break;
    case 'rbac.authorization.k8s.io/RoleBinding': case 'rbac.authorization.k8s.io/ClusterRoleBinding':
      defaultBinding(obj as unknown as RoleBinding | ClusterRoleBinding); break;
    default: break;
  }
  return obj;
}
