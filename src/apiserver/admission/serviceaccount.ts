/**
 * The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount), on Pod creates: the
 * Pod runs as `spec.serviceAccountName` (default `default`), which must exist (403 `error looking up
 * service account ns/name: ...`; the `default` one is waited for a while, as its controller creates
 * it right after the namespace), and — unless the Pod or the ServiceAccount sets
 * automountServiceAccountToken: false — it gets the `kube-api-access-<5>` projected volume
 * (a bound token that expires after 3607 s, the namespace's `kube-root-ca.crt` and the namespace)
 * mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container that has
 * nothing mounted there. The node agent turns that volume into files (src/node).
 */
import type { Container, Pod, ServiceAccount, Volume } from 'kubernetes-types/core/v1.js';
import { notFound } from '../../api/errors.js';
import { generateName } from '../../api/generatename.js';
import type { KubeObject } from '../../api/object.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import { forbiddenFor } from '../auth/attributes.js';
import type { AdmissionContext, AdmissionPlugin } from '../registry/admission.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
/** Where the token, ca.crt and namespace appear in every container. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Prefix of the projected volume's name. */
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** The ConfigMap with the cluster CA that every namespace gets (root-ca-cert-publisher). */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** WarnOnlyBoundTokenExpirationSeconds: the lifetime the projected token asks for. */
export const TOKEN_VOLUME_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** The projected source of a Pod's API access volume (TokenVolumeSource). */
export function tokenVolumeSource(): NonNullable<Volume['projected']> {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: TOKEN_VOLUME_EXPIRATION_SECONDS } },
      { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/** shouldAutomount: the Pod's preference wins, then the ServiceAccount's; true otherwise. */
export function shouldAutomount(sa: ServiceAccount, pod: Pod): boolean {
  if (typeof pod.spec?.automountServiceAccountToken === 'boolean') return pod.spec.automountServiceAccountToken;
  if (typeof sa.automountServiceAccountToken === 'boolean') return sa.automountServiceAccountToken;
  return true;
}

/** mountServiceAccountToken: the volume (once) and a read-only mount in each container that lacks one. */
export function mountServiceAccountToken(pod: Pod, newName: () => string = () => generateName(TOKEN_VOLUME_PREFIX)): void {
  const spec = pod.spec as NonNullable<Pod['spec']> & { volumes?: Volume[]; initContainers?: Container[] };
  const existing = (spec.volumes ?? []).find((v) => v.name?.startsWith(TOKEN_VOLUME_PREFIX));
  const volumeName = existing?.name ?? newName();
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    (c as { volumeMounts?: Container['volumeMounts'] }).volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    needed = true;
  }
  if (!existing && needed) spec.volumes = [...(spec.volumes ?? []), { name: volumeName, projected: tokenVolumeSource() }];
}

/** Resolves with the ServiceAccount once it is in the cache, or undefined after `ms`. */
function waitFor(ctx: AdmissionContext, ns: string, name: string, ms: number): Promise<ServiceAccount | undefined> {
  const cache = ctx.cache(R.serviceaccounts);
  const now = cache.get(ns, name)?.obj as ServiceAccount | undefined;
  if (now || ms <= 0) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (sa: ServiceAccount | undefined): void => { clearTimeout(timer); unsubscribe(); resolve(sa); };
    const unsubscribe = cache.subscribe((ev) => {
      if (ev.type !== 'DELETED' && ev.cur.obj.metadata?.namespace === ns && ev.cur.obj.metadata?.name === name) done(ev.cur.obj as ServiceAccount);
    });
    const timer = setTimeout(() => done(undefined), ms);
  });
}

/** Options of {@link serviceAccountAdmission}. */
export interface ServiceAccountAdmissionOptions {
  /** How long a Pod create waits for the `default` ServiceAccount of a new namespace. Default 10 s. */
  defaultAccountWaitMs?: number;
}

/** The plugin, for `createApiCore({ admission })`. */
export function serviceAccountAdmission(opts: ServiceAccountAdmissionOptions = {}): AdmissionPlugin {
  const waitMs = opts.defaultAccountWaitMs ?? 10_000;
  return {
    name: 'ServiceAccount',
    handles: (info: ResourceInfo) => info === R.pods || (info.group === '' && info.plural === 'pods'),
    async admit(obj: KubeObject, ctx: AdmissionContext) {
      const pod = obj as Pod;
      const spec = (pod as { spec?: Pod['spec'] }).spec;
      if (!spec || typeof spec !== 'object' || pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      const ns = ctx.namespace ?? 'default';
      const mutable = spec as { serviceAccountName?: string; serviceAccount?: string };
      if (!mutable.serviceAccountName) mutable.serviceAccountName = mutable.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      const name = mutable.serviceAccountName;
      const sa = await waitFor(ctx, ns, name, name === DEFAULT_SERVICE_ACCOUNT ? waitMs : 0);
      if (!sa) {
        const md = pod.metadata ?? {};
        // Kubernetes names the Pod by its generateName while the name is not made yet.
        const podName = md.generateName && md.name?.startsWith(md.generateName) && md.name.length === md.generateName.length + 5 ? md.generateName : md.name ?? '';
        throw forbiddenFor({ group: '', resource: 'pods' }, podName, `error looking up service account ${ns}/${name}: ${notFound(R.serviceaccounts, name).message}`);
      }
      if (Array.isArray(spec.containers) && shouldAutomount(sa, pod)) mountServiceAccountToken(pod);
      if (!(spec.imagePullSecrets ?? []).length && (sa.imagePullSecrets ?? []).length) {
        (spec as { imagePullSecrets?: { name: string }[] }).imagePullSecrets = sa.imagePullSecrets!.map((s) => ({ name: s.name ?? '' }));
      }
    },
  };
}
