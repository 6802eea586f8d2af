/**
 * The catalog of every resource the API server serves. Discovery, OpenAPI, routing, the clients and
 * the storage key layout are all derived from this one table, so adding a resource is one entry here
 * (plus its defaults/validation/printer where it needs them).
 */

/** Everything the server and its clients need to know about one served resource. */
export interface ResourceInfo {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  /** Plural, lower-case resource name used in URLs ("services"). */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** kubectl categories (e.g. "all" for `kubectl get all`). */
  readonly categories: readonly string[];
  /** Served subresources ("status", "scale", "log", "exec", "attach", "portforward", "binding", "eviction", "token", "ephemeralcontainers", "proxy"). */
  readonly subresources: readonly string[];
  /** Verbs served; absent = all of VERBS. Read-only resources (metrics.k8s.io) serve get and list. */
  readonly verbs?: readonly string[];
  /**
   * The version objects are stored at, when the resource is served at several versions (absent: this
   * one). Requests at another version are converted (src/apiserver/registry/versions.ts).
   */
  readonly storageVersion?: string;
  /**
   * A review kind (TokenReview, SubjectAccessReview, ...): a create is answered from the request and
   * the caller's identity (src/apiserver/auth/reviews.ts) and nothing is stored; only `create` is served.
   */
  readonly review?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
/** Verbs every resource in the catalog supports. */
export const VERBS: readonly string[] = ALL_VERBS;

function r(
  group: string, version: string, kind: string, plural: string, namespaced: boolean,
  opts: { shortNames?: string[]; categories?: string[]; subresources?: string[]; verbs?: string[]; storageVersion?: string; singular?: string } = {},
): ResourceInfo {
  return {
    group, version, kind, listKind: `${kind}List`, plural, singular: opts.singular ?? kind.toLowerCase(), namespaced,
    shortNames: opts.shortNames ?? [], categories: opts.categories ?? [], subresources: opts.subresources ?? [],
    ...(opts.verbs ? { verbs: opts.verbs } : {}), ...(opts.storageVersion ? { storageVersion: opts.storageVersion } : {}),
  };
}

/** Verbs of `info` (all of VERBS unless it says otherwise). */
export function verbsOf(info: ResourceInfo): readonly string[] {
  return info.verbs ?? VERBS;
}

/** Whether objects of `info` live in storage (false for read-only views such as metrics.k8s.io). */
export function isStored(info: ResourceInfo): boolean {
  return !info.review && verbsOf(info).includes('create');
}

/** A review kind: answered on create, never stored (only `create` is served). */
function review(group: string, kind: string, plural: string, namespaced = false): ResourceInfo {
  return { ...r(group, 'v1', kind, plural, namespaced, { verbs: ['create'] }), review: true };
}

/** All served resources. Keys are stable identifiers used across the code base. */
export const R = {
  namespaces: r('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  nodes: r('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: ['status'] }),
  pods: r('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'], categories: ['all'],
    subresources: ['status', 'log', 'exec', 'attach', 'portforward', 'binding', 'eviction', 'ephemeralcontainers', 'proxy'],
  }),
  services: r('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status', 'proxy'] }),
  endpoints: r('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  events: r('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  configmaps: r('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  deployments: r('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'],
  }),
  replicasets: r('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'],
  }),
  statefulsets: r('apps', 'v1', 'StatefulSet', 'statefulsets', true, {
    shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'],
  }),
  daemonsets: r('apps', 'v1', 'DaemonSet', 'daemonsets', true, {
    shortNames: ['ds'], categories: ['all'], subresources: ['status'],
  }),
  endpointslices: r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  leases: r('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  jobs: r('batch', 'v1', 'Job', 'jobs', true, { categories: ['all'], subresources: ['status'] }),
  cronjobs: r('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  poddisruptionbudgets: r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, { shortNames: ['pdb'], subresources: ['status'] }),
  // autoscaling/v2 first: the preferred version discovery reports; v1 objects are converted (registry/versions.ts).
  horizontalpodautoscalers: r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'], categories: ['all'], subresources: ['status'],
  }),
  horizontalpodautoscalersV1: r('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'], categories: ['all'], subresources: ['status'], storageVersion: 'v2',
  }),
  networkpolicies: r('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, { shortNames: ['netpol'] }),
  customresourcedefinitions: r('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
    shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'],
  }),
  // metrics.k8s.io is served from the nodes' resource accounting (src/metrics), not from storage.
  nodemetrics: r('metrics.k8s.io', 'v1beta1', 'NodeMetrics', 'nodes', false, { verbs: ['get', 'list'], singular: '' }),
  podmetrics: r('metrics.k8s.io', 'v1beta1', 'PodMetrics', 'pods', true, { verbs: ['get', 'list'], singular: '' }),
  // Identity and access (src/apiserver/auth): service accounts and their tokens, Secrets, RBAC, reviews.
  serviceaccounts: r('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  secrets: r('', 'v1', 'Secret', 'secrets', true),
  roles: r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  rolebindings: r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  clusterroles: r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  clusterrolebindings: r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  tokenreviews: review('authentication.k8s.io', 'TokenReview', 'tokenreviews'),
  selfsubjectreviews: review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
  subjectaccessreviews: review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews'),
  selfsubjectaccessreviews: review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  selfsubjectrulesreviews: review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  localsubjectaccessreviews: review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
} as const satisfies Record<string, ResourceInfo>;

/** Identifier of a catalog entry, e.g. "services". */
export type ResourceKey = keyof typeof R;

/** Every catalog entry, in a stable order. */
export const ALL_RESOURCES: readonly ResourceInfo[] = Object.values(R);

/** "apps/v1" or "v1" for the core group. */
export function groupVersion(info: ResourceInfo): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** The version objects of `info` are stored at. */
export function storageVersionOf(info: ResourceInfo): string {
  return info.storageVersion ?? info.version;
}

/** Finds a resource by group + plural name (the form URLs use); undefined when not served. */
export function resourceByPlural(group: string, version: string, plural: string): ResourceInfo | undefined {
  return ALL_RESOURCES.find((x) => x.group === group && x.version === version && x.plural === plural);
}

/** Finds a resource by apiVersion + kind (the form objects carry); undefined when not served. */
export function resourceByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return ALL_RESOURCES.find((x) => groupVersion(x) === apiVersion && x.kind === kind);
}
