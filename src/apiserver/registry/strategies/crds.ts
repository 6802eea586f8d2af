/**
 * CustomResourceDefinitions (apiextensions-apiserver's strategy): a new CRD's status records the
 * storage version in `storedVersions`; an update that moves the storage version appends it (objects
 * may still be stored at the old one). Names and conditions are set by the CRD controllers.
 */
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import { fieldsOf } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { copyOf, deletionWithFinalizers, genericStrategy, type Strategy } from '../strategy.js';

/** Kept on a deleted CRD until the CRD controller has deleted its objects (src/apiserver/crd). */
const CLEANUP = 'customresourcecleanup.apiextensions.k8s.io';

function storageVersion(crd: CustomResourceDefinition): string | undefined {
  return crd.spec?.versions?.find((v) => v.storage)?.name;
}

export function crdStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    prepareForCreate(obj) {
      const sv = storageVersion(obj as CustomResourceDefinition);
      fieldsOf(obj).status = { acceptedNames: { plural: '', kind: '' }, conditions: [], storedVersions: sv ? [sv] : [] };
    },
    prepareForUpdate(next, old) {
      base.prepareForUpdate(next, old);
      const sv = storageVersion(next as CustomResourceDefinition);
      const status = fieldsOf(next).status as { storedVersions?: string[] } | undefined;
      if (sv && status && !(status.storedVersions ?? []).includes(sv)) status.storedVersions = [...(status.storedVersions ?? []), sv];
    },
    deletion(cur, opts, now) {
      // The REST delete of a CRD adds the cleanup finalizer, so its objects go before it does.
      if (cur.metadata?.deletionTimestamp || (cur.metadata?.finalizers ?? []).includes(CLEANUP)) return deletionWithFinalizers(cur, opts, now);
      const marked = copyOf(cur);
      marked.metadata = { ...marked.metadata, finalizers: [...(marked.metadata?.finalizers ?? []), CLEANUP] };
      return deletionWithFinalizers(marked, opts, now);
    },
  };
}
