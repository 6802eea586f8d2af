/**
 * Who a request is: Kubernetes' user.Info (name, uid, groups, extra) and the well-known names
 * (k8s.io/apiserver/pkg/authentication/user and .../serviceaccount).
 */

/** An authenticated identity (user.Info). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** Extra attributes (a ServiceAccount token's pod name and uid, its credential id). */
  extra?: Record<string, string[]>;
}

/** Every authenticated user is in this group. */
export const ALL_AUTHENTICATED = 'system:authenticated';
/** Anonymous requests are in this group (this server refuses them with 401; reviews may name it). */
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
/** The superuser group: every request of its members is allowed without consulting RBAC. */
export const SYSTEM_PRIVILEGED_GROUP = 'system:masters';
/** Nodes (kubelets) are in this group. */
export const NODES_GROUP = 'system:nodes';

const SA_PREFIX = 'system:serviceaccount:';
/** Every ServiceAccount is in this group. */
export const ALL_SERVICE_ACCOUNTS = 'system:serviceaccounts';

/** `system:serviceaccount:<namespace>:<name>` */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

/** Namespace and name of a ServiceAccount username; undefined for any other name. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** The groups of a ServiceAccount: all service accounts, those of its namespace, authenticated. */
export function serviceAccountGroups(namespace: string): string[] {
  return [ALL_SERVICE_ACCOUNTS, `${ALL_SERVICE_ACCOUNTS}:${namespace}`, ALL_AUTHENTICATED];
}

/** Extra keys a bound ServiceAccount token adds to the user (serviceaccount.*Key). */
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUID: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUID: 'authentication.kubernetes.io/node-uid',
  credentialID: 'authentication.kubernetes.io/credential-id',
} as const;
