/**
 * Identity and access kinds, as printers.go prints them: secrets (NAME TYPE DATA AGE),
 * serviceaccounts (NAME SECRETS AGE), rolebindings and clusterrolebindings (NAME ROLE AGE + USERS
 * GROUPS SERVICEACCOUNTS). Roles and ClusterRoles have no printer in Kubernetes either: they get the
 * default table (NAME, CREATED AT).
 */
import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

/** Printer for core/v1 Secret: the DATA cell counts the keys of `data`. */
export const secretPrinter: Printer<Secret> = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', doc('io.k8s.api.core.v1.Secret', 'type')),
    col('Data', 'string', doc('io.k8s.api.core.v1.Secret', 'data')),
    AGE_COLUMN,
  ],
  row: (s, now) => ({ cells: [s.metadata?.name ?? '', s.type ?? '', Object.keys(s.data ?? {}).length, ageSince(s.metadata?.creationTimestamp, now)] }),
};

/** Printer for core/v1 ServiceAccount: SECRETS counts `secrets` (legacy token Secrets). */
export const serviceAccountPrinter: Printer<ServiceAccount> = {
  columns: [NAME_COLUMN, col('Secrets', 'string', doc('io.k8s.api.core.v1.ServiceAccount', 'secrets')), AGE_COLUMN],
  row: (sa, now) => ({ cells: [sa.metadata?.name ?? '', (sa.secrets ?? []).length, ageSince(sa.metadata?.creationTimestamp, now)] }),
};

/** rbac.SubjectsStrings: users, groups and service accounts (`namespace:name`) of a binding. */
export function subjectsStrings(subjects: readonly Subject[] | undefined): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const out = { users: [] as string[], groups: [] as string[], serviceAccounts: [] as string[] };
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') out.serviceAccounts.push(s.namespace ? `${s.namespace}:${s.name}` : s.name);
    else if (s.kind === 'User') out.users.push(s.name);
    else if (s.kind === 'Group') out.groups.push(s.name);
  }
  return out;
}

function bindingPrinter(kind: 'roleBinding' | 'clusterRoleBinding', definition: string): Printer<RoleBinding | ClusterRoleBinding> {
  return {
    columns: [
      NAME_COLUMN,
      col('Role', 'string', doc(definition, 'roleRef')),
      AGE_COLUMN,
      col('Users', 'string', `Users in the ${kind}`, 1),
      col('Groups', 'string', `Groups in the ${kind}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`, 1),
    ],
    row: (b, now) => {
      const s = subjectsStrings(b.subjects);
      return {
        cells: [b.metadata?.name ?? '', `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, ageSince(b.metadata?.creationTimestamp, now),
          s.users.join(', '), s.groups.join(', '), s.serviceAccounts.join(', ')],
      };
    },
  };
}

/** Printer for rbac.authorization.k8s.io/v1 RoleBinding. */
export const roleBindingPrinter = bindingPrinter('roleBinding', 'io.k8s.api.rbac.v1.RoleBinding');
/** Printer for rbac.authorization.k8s.io/v1 ClusterRoleBinding. */
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding', 'io.k8s.api.rbac.v1.ClusterRoleBinding');
