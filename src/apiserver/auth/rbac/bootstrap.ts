/**
 * The default RBAC policy Kubernetes ships (plugin/pkg/auth/authorizer/rbac/bootstrappolicy: the
 * user-facing roles and the system: ones, as its testdata/cluster-roles.yaml and
 * cluster-role-bindings.yaml list them), and `ensureBootstrapPolicy`, which kube-apiserver's
 * rbac/bootstrap-roles hook is: every default object that is missing is created; one marked
 * `rbac.authorization.kubernetes.io/autoupdate: "true"` gets back any rule or subject it lost;
 * with "false" it is left as the user made it.
 *
 * admin, edit and view hold no rules of their own: they aggregate every ClusterRole labelled
 * `rbac.authorization.k8s.io/aggregate-to-<role>: "true"` (the clusterrole-aggregation controller
 * fills their rules), so a CRD's roles can extend them.
 *
 * Differences: the system:controller:* roles (one identity per controller) are not created — the
 * controllers here run inside the API server's process; system:node and system:node-proxier are
 * also bound to the group system:nodes, since there is no Node authorizer. system:clusterip-network-policy
 * (bound to system:nodes) lets each node's NetworkPolicy agent list and watch what it enforces.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Subject } from 'kubernetes-types/rbac/v1.js';
import { isAlreadyExists, isNotFound } from '../../../api/errors.js';
import { R } from '../../../api/resources.js';
import type { Client } from '../../../client/client.js';
import { deepCopy } from '../../../api/object.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const RBAC = 'rbac.authorization.k8s.io';

const ALL_VERBS_RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const EVENTS_RW = ['create', 'patch', 'update'];

/** A resource rule: `r(verbs, groups, resources, names?)`. */
function r(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  return { apiGroups, resources, ...(resourceNames ? { resourceNames } : {}), verbs };
}
/** A non-resource rule. */
function url(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { nonResourceURLs, verbs };
}

function role(name: string, rules: PolicyRule[], opts: { labels?: Record<string, string>; aggregateFrom?: string } = {}): ClusterRole {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_LABEL, ...opts.labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    ...(opts.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`${RBAC}/aggregate-to-${opts.aggregateFrom}`]: 'true' } }] } } : {}),
    rules,
  };
}

const aggregateTo = (r: string): Record<string, string> => ({ [`${RBAC}/aggregate-to-${r}`]: 'true' });

/** The default ClusterRoles, by name. */
export const BOOTSTRAP_CLUSTER_ROLES: readonly ClusterRole[] = [
  role('admin', [], { aggregateFrom: 'admin' }),
  role('cluster-admin', [r(['*'], ['*'], ['*']), url(['*'], ['*'])]),
  role('edit', [], { aggregateFrom: 'edit', labels: aggregateTo('admin') }),
  role('view', [], { aggregateFrom: 'view', labels: aggregateTo('edit') }),
  role('system:aggregate-to-admin', [
    r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
    r(ALL_VERBS_RW, [RBAC], ['rolebindings', 'roles']),
  ], { labels: aggregateTo('admin') }),
  role('system:aggregate-to-edit', [
    r(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
    r(['impersonate'], [''], ['serviceaccounts']),
    r(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
    r(['create'], [''], ['pods/eviction']),
    r(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
    r(['create'], [''], ['serviceaccounts/token']),
    r(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
    r(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
    r(WRITE, ['batch'], ['cronjobs', 'jobs']),
    r(WRITE, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
    r(WRITE, ['policy'], ['poddisruptionbudgets']),
    r(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
    r(ALL_VERBS_RW, ['coordination.k8s.io'], ['leases']),
  ], { labels: aggregateTo('edit') }),
  role('system:aggregate-to-view', [
    r(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
    r(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
    r(READ, [''], ['namespaces']),
    r(READ, ['discovery.k8s.io'], ['endpointslices']),
    r(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
    r(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    r(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
    r(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
    r(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    r(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  ], { labels: aggregateTo('view') }),
  role('system:auth-delegator', [r(['create'], ['authentication.k8s.io'], ['tokenreviews']), r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])]),
  role('system:basic-user', [
    r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  ]),
  role('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
  role('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
  role('system:certificates.k8s.io:kube-apiserver-client-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client'])]),
  role('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet'])]),
  role('system:certificates.k8s.io:kubelet-serving-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kubelet-serving'])]),
  role('system:certificates.k8s.io:legacy-unknown-approver', [r(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/legacy-unknown'])]),
  role('system:discovery', [url(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
  role('system:heapster', [r(READ, [''], ['events', 'namespaces', 'nodes', 'pods']), r(READ, ['extensions'], ['deployments'])]),
  role('system:kube-aggregator', [r(READ, [''], ['endpoints', 'services'])]),
  role('system:kube-controller-manager', [
    r(EVENTS_RW, ['', 'events.k8s.io'], ['events']),
    r(['create'], ['coordination.k8s.io'], ['leases']),
    r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
    r(['create'], [''], ['secrets', 'serviceaccounts']),
    r(['delete'], [''], ['secrets']),
    r(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
    r(['update'], [''], ['secrets', 'serviceaccounts']),
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    r(['list', 'watch'], ['*'], ['*']),
    r(['create'], [''], ['serviceaccounts/token']),
  ]),
  role('system:kube-dns', [r(['list', 'watch'], [''], ['endpoints', 'services'])]),
  role('system:kube-scheduler', [
    r(EVENTS_RW, ['', 'events.k8s.io'], ['events']),
    r(['create'], ['coordination.k8s.io'], ['leases']),
    r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
    r(READ, [''], ['nodes']),
    r(['delete', 'get', 'list', 'watch'], [''], ['pods']),
    r(['create'], [''], ['bindings', 'pods/binding']),
    r(['patch', 'update'], [''], ['pods/status']),
    r(READ, [''], ['replicationcontrollers', 'services']),
    r(READ, ['apps', 'extensions'], ['replicasets']),
    r(READ, ['apps'], ['statefulsets']),
    r(READ, ['policy'], ['poddisruptionbudgets']),
    r(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    r(READ, ['storage.k8s.io'], ['csinodes']),
    r(READ, [''], ['namespaces']),
    r(READ, ['storage.k8s.io'], ['csidrivers']),
    r(READ, ['storage.k8s.io'], ['csistoragecapacities']),
  ]),
  role('system:kubelet-api-admin', [r(READ, [''], ['nodes']), r(['proxy'], [''], ['nodes']), r(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'])]),
  role('system:monitoring', [url(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])]),
  role('system:node', [
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
    r(READ, [''], ['services']),
    r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
    r(['patch', 'update'], [''], ['nodes/status']),
    r(['patch', 'update'], [''], ['nodes']),
    r(EVENTS_RW, [''], ['events']),
    r(READ, [''], ['pods']),
    r(['create', 'delete'], [''], ['pods']),
    r(['patch', 'update'], [''], ['pods/status']),
    r(['create'], [''], ['pods/eviction']),
    r(READ, [''], ['configmaps', 'secrets']),
    r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
    r(['get'], [''], ['endpoints']),
    r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    r(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
    r(['get'], ['storage.k8s.io'], ['volumeattachments']),
    r(['create'], [''], ['serviceaccounts/token']),
    r(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
    r(READ, ['storage.k8s.io'], ['csidrivers']),
    r(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
    r(READ, ['node.k8s.io'], ['runtimeclasses']),
  ]),
  role('system:node-bootstrapper', [r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
  role('system:node-problem-detector', [r(['get'], [''], ['nodes']), r(['patch'], [''], ['nodes/status']), r(EVENTS_RW, ['', 'events.k8s.io'], ['events'])]),
  role('system:node-proxier', [
    r(['list', 'watch'], [''], ['endpoints', 'services']),
    r(READ, [''], ['nodes']),
    r(EVENTS_RW, ['', 'events.k8s.io'], ['events']),
    r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
  ]),
  role('system:persistent-volume-provisioner', [
    r(['create', 'delete', 'get', 'list', 'watch'], [''], ['persistentvolumes']),
    r(['get', 'list', 'update', 'watch'], [''], ['persistentvolumeclaims']),
    r(READ, ['storage.k8s.io'], ['storageclasses']),
    r(['watch'], [''], ['events']),
    r(EVENTS_RW, ['', 'events.k8s.io'], ['events']),
  ]),
  // Not Kubernetes' own: metrics-server's manifest ships this role so admin, edit and view may read
  // metrics.k8s.io (`kubectl top`); here that API is built in, so its role is part of the defaults.
  role('system:aggregated-metrics-reader', [r(READ, ['metrics.k8s.io'], ['pods', 'nodes'])], {
    labels: { 'k8s-app': 'metrics-server', ...aggregateTo('admin'), ...aggregateTo('edit'), ...aggregateTo('view') },
  }),
  // Not Kubernetes' own: what a NetworkPolicy agent reads (kube-network-policies' and Calico's
  // manifests ship such a role for their node agents); here every node enforces policy (src/netpol).
  role('system:clusterip-network-policy', [
    r(['list', 'watch'], ['networking.k8s.io'], ['networkpolicies']),
    r(['list', 'watch'], [''], ['pods', 'namespaces']),
  ]),
  role('system:public-info-viewer', [url(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
  role('system:service-account-issuer-discovery', [url(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
  role('system:volume-scheduler', [
    r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']),
    r(READ, ['storage.k8s.io'], ['storageclasses']),
    r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
  ]),
];

const group = (name: string): Subject => ({ apiGroup: RBAC, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: RBAC, kind: 'User', name });
const sa = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

function binding(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
    subjects,
  };
}

/** The default ClusterRoleBindings. */
export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: readonly ClusterRoleBinding[] = [
  binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
  binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
  binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
  binding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
  binding('system:kube-dns', 'system:kube-dns', [sa('kube-system', 'kube-dns')]),
  binding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
  binding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
  binding('system:node', 'system:node', [group('system:nodes')]),
  binding('system:node-proxier', 'system:node-proxier', [user('system:kube-proxy'), group('system:nodes')]),
  binding('system:clusterip-network-policy', 'system:clusterip-network-policy', [group('system:nodes')]),
  binding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
  binding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
  binding('system:volume-scheduler', 'system:volume-scheduler', [user('system:kube-scheduler')]),
];

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What the default adds to an existing object (rules or subjects it lacks), or undefined when nothing. */
function reconcile<T extends ClusterRole | ClusterRoleBinding>(cur: T, want: T): T | undefined {
  if (cur.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  const next = deepCopy(cur) as T;
  let changed = false;
  const md = (next.metadata ??= {});
  for (const [k, v] of Object.entries(want.metadata?.labels ?? {})) if (md.labels?.[k] === undefined) { md.labels = { ...md.labels, [k]: v }; changed = true; }
  for (const [k, v] of Object.entries(want.metadata?.annotations ?? {})) if (md.annotations?.[k] === undefined) { md.annotations = { ...md.annotations, [k]: v }; changed = true; }
  if ('roleRef' in want) {
    const b = next as ClusterRoleBinding;
    for (const s of (want as ClusterRoleBinding).subjects ?? []) {
      if (!(b.subjects ?? []).some((x) => same(x, s))) { b.subjects = [...(b.subjects ?? []), s]; changed = true; }
    }
  } else {
    const r = next as ClusterRole;
    const w = want as ClusterRole;
    if (w.aggregationRule) {
      // Aggregated roles: their selectors come back; their rules are the aggregation controller's.
      for (const sel of w.aggregationRule.clusterRoleSelectors ?? []) {
        const sels = r.aggregationRule?.clusterRoleSelectors ?? [];
        if (!sels.some((x) => same(x, sel))) { r.aggregationRule = { clusterRoleSelectors: [...sels, sel] }; changed = true; }
      }
    } else {
      for (const rule of w.rules ?? []) {
        if (!(r.rules ?? []).some((x) => same(x, rule))) { r.rules = [...(r.rules ?? []), rule]; changed = true; }
      }
    }
  }
  return changed ? next : undefined;
}

/** Creates or restores the default policy (kube-apiserver's rbac/bootstrap-roles post-start hook). */
export async function ensureBootstrapPolicy(client: Client): Promise<void> {
  const ensure = async <T extends ClusterRole | ClusterRoleBinding>(info: typeof R.clusterroles | typeof R.clusterrolebindings, want: T): Promise<void> => {
    const name = want.metadata!.name!;
    for (let attempt = 0; attempt < 5; attempt++) {
      let cur: T | undefined;
      try { cur = await client.get<T>(info, undefined, name); } catch (e) { if (!isNotFound(e)) throw e; }
      try {
        if (!cur) { await client.create(info, undefined, deepCopy(want)); return; }
        const next = reconcile(cur, want);
        if (next) await client.update(info, undefined, next);
        return;
      } catch (e) {
        // Another API server on the same store got there first: look again.
        if (isAlreadyExists(e) || (e as { code?: number }).code === 409) continue;
        throw e;
      }
    }
  };
  await Promise.all(BOOTSTRAP_CLUSTER_ROLES.map((r) => ensure(R.clusterroles, r)));
  await Promise.all(BOOTSTRAP_CLUSTER_ROLE_BINDINGS.map((b) => ensure(R.clusterrolebindings, b)));
}
