/**
 * Validation with Kubernetes' own wording and field paths (pkg/apis/<group>/validation). Called by
 * the registry after defaulting. Returns the field errors; the registry turns a non-empty result
 * into `invalid(kind, group, name, errors)` (422). `old` is set on update.
 *
 * Kinds without a dedicated validator get ObjectMeta validation with DNS-1123 subdomain names.
 */
import type { FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { Endpoints, Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { validateDeployment, validateReplicaSet, validateStatefulSet } from './apps.js';
import { validateEndpointSlice, validateEndpoints } from './endpoints.js';
import { eachInvalid, invalidField, path } from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isQualifiedName, nameIsDNSLabel, nameIsDNSSubdomain } from './names.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';

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

function validateGeneric(info: ResourceInfo, obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(obj.metadata, info.namespaced, nameIsDNSSubdomain, path('metadata')));
  return errs;
}

export function validateObject(info: ResourceInfo, obj: KubeObject, old?: KubeObject): FieldError[] {
  const key = `${info.group}/${info.kind}`;
  switch (key) {
    case '/Service': return old ? validateServiceUpdate(obj as Service, old as Service) : validateService(obj as Service);
    case '/Pod': return old ? validatePodUpdate(obj as Pod, old as Pod) : validatePod(obj as Pod);
    case '/Namespace': return validateNamespace(obj as Namespace, old as Namespace | undefined);
    case '/Endpoints': return validateEndpoints(obj as Endpoints, old as Endpoints | undefined);
    case 'apps/Deployment': return validateDeployment(obj as Deployment, old as Deployment | undefined);
    case 'apps/ReplicaSet': return validateReplicaSet(obj as ReplicaSet, old as ReplicaSet | undefined);
    case 'apps/StatefulSet': return validateStatefulSet(obj as StatefulSet, old as StatefulSet | undefined);
    case 'discovery.k8s.io/EndpointSlice': return validateEndpointSlice(obj as EndpointSlice, old as EndpointSlice | undefined);
    default: return validateGeneric(info, obj, old);
  }
}
