/**
 * Validation with Kubernetes' own wording and field paths (pkg/apis/<group>/validation). Called by
 * the registry after defaulting. Returns the field errors; the registry turns a non-empty result
 * into `invalid(kind, group, name, errors)` (422). `old` is set on update.
 *
 * Kinds without a dedicated validator get ObjectMeta validation with DNS-1123 subdomain names.
 */
import type { FieldError } from '../../api/errors.js';
import { deepCopy, type KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { ConfigMap, Endpoints, Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { validateDeployment, validateReplicaSet, validateStatefulSet } from './apps.js';
import { validateEndpointSlice, validateEndpoints } from './endpoints.js';
import { duplicate, eachInvalid, forbidden, invalidField, path, tooLong } from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isConfigMapKey, isQualifiedName, nameIsDNSLabel, nameIsDNSSubdomain } from './namevalidation.js';
import { validatePod, validatePodUpdate } from './pod.js';
import type { Secret } from 'kubernetes-types/core/v1.js';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac.js';
import { validateSecret, validateSecretUpdate } from './secret.js';
import { validateService, validateServiceUpdate } from './service.js';
import { checkTypes, normalizeNulls } from './typecheck.js';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { checkSchedule } from '../../api/schedule.js';
import { validateCrd } from './crd.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { validateNetworkPolicy } from './networking.js';
import { validateCronJob, validateDaemonSet, validateHpa, validateJob, validatePdb } from './workloads.js';

function validateNamespace(ns: Namespace, old?: Namespace): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ns.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(ns.metadata, false, nameIsDNSLabel, path('metadata')));
  (ns.spec?.finalizers ?? []).forEach((f) => {
    const fp = path('spec', 'finalizers');
    const msgs = isQualifiedName(f);
    if (msgs.length > 0) errs.push(...eachInvalid(fp, f, msgs));
    else if (!f.includes('/') && f !== 'kubernetes') {
      errs.push(invalidField(fp, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

/** ConfigMaps hold at most 1 MiB of data (core.MaxSecretSize). */
const MAX_CONFIGMAP_BYTES = 1024 * 1024;

function validateConfigMap(cm: ConfigMap, old?: ConfigMap): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(cm.metadata, old.metadata, path('metadata')) : [];
  // ValidateConfigMapUpdate: an immutable ConfigMap keeps its data and the flag.
  if (old?.immutable) {
    if (!cm.immutable) errs.push(forbidden(path('immutable'), 'field is immutable when `immutable` is set'));
    if (JSON.stringify(cm.data ?? {}) !== JSON.stringify(old.data ?? {})) errs.push(forbidden(path('data'), 'field is immutable when `immutable` is set'));
    if (JSON.stringify(cm.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) errs.push(forbidden(path('binaryData'), 'field is immutable when `immutable` is set'));
  }
  errs.push(...validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain, path('metadata')));
  let size = 0;
  for (const k of Object.keys(cm.data ?? {}).sort()) {
    errs.push(...eachInvalid(path('data').key(k), k, isConfigMapKey(k)));
    size += Buffer.byteLength(String(cm.data![k] ?? ''));
  }
  for (const k of Object.keys(cm.binaryData ?? {}).sort()) {
    errs.push(...eachInvalid(path('binaryData').key(k), k, isConfigMapKey(k)));
    if (cm.data && k in cm.data) errs.push(duplicate(path('binaryData').key(k), k));
    size += Buffer.byteLength(String(cm.binaryData![k] ?? ''), 'base64');
  }
  if (size > MAX_CONFIGMAP_BYTES) errs.push(tooLong(path(''), MAX_CONFIGMAP_BYTES));
  return errs;
}

function validateGeneric(info: ResourceInfo, obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(obj.metadata, info.namespaced, nameIsDNSSubdomain, path('metadata')));
  return errs;
}

/**
 * Validates `obj` (a create when `old` is undefined, else an update from `old`). Throws 400
 * BadRequest for values of the wrong JSON type (see typecheck.ts); returns the field errors otherwise.
 */
export function validateObject(info: ResourceInfo, input: KubeObject, prev?: KubeObject): FieldError[] {
  checkTypes(info, input);
  // Validate what Go's decoder would have produced (nulls as zero values), without touching the input.
  const obj = deepCopy(input);
  normalizeNulls(info, obj);
  return validateDefaulted(info, obj, prev);
}

/**
 * `validateObject` for an object that `applyDefaults` has just processed (type-checked, nulls
 * normalized, defaults set — the registry's admission): it is validated as it is, without checking
 * types, copying and normalizing it a second time. `obj` is not modified.
 */
export function validateDefaulted(info: ResourceInfo, obj: KubeObject, prev?: KubeObject): FieldError[] {
  const old = prev === undefined ? undefined : deepCopy(prev);
  if (old) normalizeNulls(info, old);
  const key = `${info.group}/${info.kind}`;
  switch (key) {
    case '/Service': return old ? validateServiceUpdate(obj as Service, old as Service) : validateService(obj as Service);
    case '/Pod': return old ? validatePodUpdate(obj as Pod, old as Pod) : validatePod(obj as Pod);
    case '/Namespace': return validateNamespace(obj as Namespace, old as Namespace | undefined);
    case '/ConfigMap': return validateConfigMap(obj as ConfigMap, old as ConfigMap | undefined);
    case '/Endpoints': return validateEndpoints(obj as Endpoints, old as Endpoints | undefined);
    case 'apps/Deployment': return validateDeployment(obj as Deployment, old as Deployment | undefined);
    case 'apps/ReplicaSet': return validateReplicaSet(obj as ReplicaSet, old as ReplicaSet | undefined);
    case 'apps/StatefulSet': return validateStatefulSet(obj as StatefulSet, old as StatefulSet | undefined);
    case 'discovery.k8s.io/EndpointSlice': return validateEndpointSlice(obj as EndpointSlice, old as EndpointSlice | undefined);
    case 'batch/Job': return validateJob(obj as Job, old as Job | undefined);
    case 'batch/CronJob': return validateCronJob(obj as CronJob, old as CronJob | undefined, checkSchedule);
    case 'apps/DaemonSet': return validateDaemonSet(obj as DaemonSet, old as DaemonSet | undefined);
    case 'policy/PodDisruptionBudget': return validatePdb(obj as PodDisruptionBudget, old as PodDisruptionBudget | undefined);
    case 'autoscaling/HorizontalPodAutoscaler': return validateHpa(obj as unknown as HorizontalPodAutoscaler, old as unknown as HorizontalPodAutoscaler | undefined);
    case 'apiextensions.k8s.io/CustomResourceDefinition': return validateCrd(obj as unknown as CustomResourceDefinition, old as unknown as CustomResourceDefinition | undefined);
    case 'networking.k8s.io/NetworkPolicy': return validateNetworkPolicy(obj as unknown as NetworkPolicy, old as unknown as NetworkPolicy | undefined);
    case '/Secret': return old ? validateSecretUpdate(obj as Secret, old as Secret) : validateSecret(obj as Secret);
    case 'rbac.authorization.k8s.io/Role': return validateRole(obj as Role, old as Role | undefined);
    case 'rbac.authorization.k8s.io/ClusterRole': return validateClusterRole(obj as ClusterRole, old as ClusterRole | undefined);
    case 'rbac.authorization.k8s.io/RoleBinding': return validateRoleBinding(obj as RoleBinding, old as RoleBinding | undefined);
    case 'rbac.authorization.k8s.io/ClusterRoleBinding': return validateClusterRoleBinding(obj as ClusterRoleBinding, old as ClusterRoleBinding | undefined);
    default: return validateGeneric(info, obj, old);
  }
}
