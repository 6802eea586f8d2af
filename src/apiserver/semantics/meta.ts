/**
 * ObjectMeta, label and label-selector validation (apimachinery/pkg/api/validation/objectmeta.go
 * and apis/meta/v1/validation), shared by every kind.
 */
import type { FieldError } from '../../api/errors.js';
import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { type FieldPath, eachInvalid, forbidden, invalidField, required, tooLong, nonNegative } from './field.js';
import { type NameValidator, isQualifiedName, isValidLabelValue, nameIsDNSLabel } from './namevalidation.js';

/** Annotations may hold at most 256 KiB (keys plus values). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Label keys must be qualified names, values label values. Errors point at the map, not the key. */
export function validateLabels(labels: Record<string, string> | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(labels ?? {}).sort()) {
    errs.push(...eachInvalid(p, k, isQualifiedName(k)));
    const v = labels![k];
    if (typeof v !== 'string') { errs.push(invalidField(p, v, 'must be a string')); continue; }
    errs.push(...eachInvalid(p, v, isValidLabelValue(v)));
  }
  return errs;
}

/** Annotation keys are qualified names (case-insensitive); the total size is capped. */
export function validateAnnotations(annotations: Record<string, string> | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const k of Object.keys(annotations ?? {}).sort()) {
    errs.push(...eachInvalid(p, k, isQualifiedName(k.toLowerCase())));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(annotations![k] ?? ''));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(p, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** Metadata of a new object (name/generateName, namespace, labels, annotations, owners, finalizers). */
export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameFn: NameValidator, p: FieldPath): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  // generateName itself is not checked (as ValidateObjectMetaWithOpts): the registry has generated
  // the name by now, and the generated name is what must be valid.
  if (!m.name) errs.push(required(p.child('name'), 'name or generateName is required'));
  else errs.push(...eachInvalid(p.child('name'), m.name, nameFn(m.name, false)));
  if (namespaced) {
    if (!m.namespace) errs.push(required(p.child('namespace')));
    else errs.push(...eachInvalid(p.child('namespace'), m.namespace, nameIsDNSLabel(m.namespace, false)));
  } else if (m.namespace) {
    errs.push(forbidden(p.child('namespace'), 'not allowed on this type'));
  }
  errs.push(...nonNegative(m.generation, p.child('generation')));
  errs.push(...validateLabels(m.labels, p.child('labels')));
  errs.push(...validateAnnotations(m.annotations, p.child('annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, p.child('ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, p.child('finalizers')));
  return errs;
}

/** Metadata of an update: what must not change, plus the create-time checks that still apply. */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined, p: FieldPath): FieldError[] {
  const m = meta ?? {};
  const o = old ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const extra = (m.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f));
    if (extra.length > 0) {
      errs.push(forbidden(p.child('finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers []string{${[...new Set(extra)].sort().map((x) => JSON.stringify(x)).join(', ')}}`));
    }
  }
  const immutable = (field: 'name' | 'namespace' | 'uid' | 'creationTimestamp', onlyIfBoth: boolean): void => {
    const nv = m[field] ?? '';
    const ov = o[field] ?? '';
    if (onlyIfBoth && (!nv || !ov)) return;
    if (nv !== ov) errs.push(invalidField(p.child(field), nv, 'field is immutable'));
  };
  immutable('name', false);
  immutable('namespace', false);
  // uid and creationTimestamp are owned by the registry; check them only when the client sent them.
  immutable('uid', true);
  immutable('creationTimestamp', true);
  errs.push(...validateLabels(m.labels, p.child('labels')));
  errs.push(...validateAnnotations(m.annotations, p.child('annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, p.child('ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, p.child('finalizers')));
  return errs;
}

function validateOwnerReferences(refs: ObjectMeta['ownerReferences'], p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    const apiVersion = ref.apiVersion ?? '';
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    if (!version) errs.push(invalidField(p.child('apiVersion'), apiVersion, 'version must not be empty'));
    if (!ref.kind) errs.push(invalidField(p.child('kind'), ref.kind ?? '', 'must not be empty'));
    if (!ref.name) errs.push(invalidField(p.child('name'), ref.name ?? '', 'must not be empty'));
    if (!ref.uid) errs.push(invalidField(p.child('uid'), ref.uid ?? '', 'must not be empty'));
    if (apiVersion === 'v1' && ref.kind === 'Event') errs.push(invalidField(p, ref, '/v1, Kind=Event is disallowed from being an owner'));
    if (ref.controller) {
      const cur = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(invalidField(p, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`));
      } else firstController = cur;
    }
  }
  return errs;
}

function validateFinalizers(finalizers: string[] | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers ?? []) {
    errs.push(...eachInvalid(p, f, isQualifiedName(f)));
    // Core's extra rule: a finalizer without a '/' must be one of the standard names.
    if (!f.includes('/') && !['kubernetes', 'orphan', 'foregroundDeletion'].includes(f)) {
      errs.push(invalidField(p, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  const list = finalizers ?? [];
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalidField(p, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

/** A LabelSelector's syntax (ValidateLabelSelector). */
export function validateLabelSelector(sel: LabelSelector | undefined, p: FieldPath): FieldError[] {
  if (!sel) return [];
  const errs: FieldError[] = [];
  (sel.matchExpressions ?? []).forEach((r, i) => {
    const rp = p.child('matchExpressions').index(i);
    switch (r.operator) {
      case 'In': case 'NotIn':
        if (!r.values || r.values.length === 0) errs.push(required(rp.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists': case 'DoesNotExist':
        if (r.values && r.values.length > 0) errs.push(forbidden(rp.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalidField(rp.child('operator'), r.operator, 'not a valid selector operator'));
    }
    errs.push(...eachInvalid(rp.child('key'), r.key, isQualifiedName(r.key ?? '')));
    (r.values ?? []).forEach((v, j) => errs.push(...eachInvalid(rp.child('values').index(j), v, isValidLabelValue(v))));
  });
  errs.push(...validateLabels(sel.matchLabels, p.child('matchLabels')));
  return errs;
}

/** True when a LabelSelector is empty (matches everything in LabelSelectorAsSelector terms). */
export function selectorIsEmpty(sel: LabelSelector | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

/** The same value rendered as Kubernetes renders labels: a map with sorted keys (json.Marshal). */
export function sortedMap(m: Record<string, string> | undefined): Record<string, string> | null {
  if (!m) return null;
  return Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));
}
