/**
 * CustomResourceDefinition defaulting and validation (apiextensions/v1 defaults.go and
 * validation.go), with Kubernetes' wording for the rules most often met: names, group, scope,
 * versions (exactly one storage version, at least one served, schemas required), structural
 * schemas (every specified field has a type), printer columns and the scale subresource paths.
 */
import type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps } from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError } from '../../api/errors.js';
import { duplicate, forbidden, invalidField, notSupported, path, required, type FieldPath } from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { nameIsDNSSubdomain } from './namevalidation.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** SetDefaults_CustomResourceDefinition(Spec). */
export function defaultCrd(crd: CustomResourceDefinition): void {
  const spec = crd.spec as Mutable<CustomResourceDefinition['spec']> | undefined;
  if (!spec) return;
  const names = spec.names as Mutable<CustomResourceDefinition['spec']['names']> | undefined;
  if (names?.kind) {
    if (!names.singular) names.singular = names.kind.toLowerCase();
    if (!names.listKind) names.listKind = `${names.kind}List`;
  }
  if (!spec.conversion) spec.conversion = { strategy: 'None' };
  for (const v of spec.versions ?? []) {
    for (const c of (v.additionalPrinterColumns ?? []) as Mutable<NonNullable<CustomResourceDefinitionVersion['additionalPrinterColumns']>[number]>[]) {
      if (c.priority === undefined) c.priority = 0;
    }
  }
}

/** A lowercase RFC 1123 label (DNS-1035-ish rules the CRD names use). */
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function validateNames(names: CustomResourceDefinition['spec']['names'] | undefined, fp: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!names) return [required(fp)];
  const label = (v: string | undefined, p: FieldPath, need: boolean): void => {
    if (!v) { if (need) errs.push(required(p, '')); return; }
    if (!DNS1035.test(v)) errs.push(invalidField(p, v, DNS1035_MSG));
  };
  label(names.plural, fp.child('plural'), true);
  label(names.singular, fp.child('singular'), true);
  if (!names.kind) errs.push(required(fp.child('kind'), ''));
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind)) errs.push(invalidField(fp.child('kind'), names.kind, 'may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?'));
  if (!names.listKind) errs.push(required(fp.child('listKind'), ''));
  else if (names.listKind === names.kind) errs.push(invalidField(fp.child('listKind'), names.listKind, 'kind and listKind may not be the same'));
  (names.shortNames ?? []).forEach((s, i) => { if (!DNS1035.test(s)) errs.push(invalidField(fp.child('shortNames').index(i), s, DNS1035_MSG)); });
  return errs;
}

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

/** Structural schema rules (apiextensions' structuralschema validation) that the common mistakes meet. */
function validateStructural(s: JSONSchemaProps, fp: FieldPath, errs: FieldError[], root: boolean): void {
  const ext = s as Record<string, unknown>;
  const ios = ext['x-kubernetes-int-or-string'] === true;
  const preserve = ext['x-kubernetes-preserve-unknown-fields'];
  if (preserve === false) errs.push(invalidField(fp.child('x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  if (!s.type && !ios && preserve !== true) {
    errs.push(required(fp.child('type'), root ? 'must not be empty at the root' : 'must not be empty for specified object fields'));
  } else if (s.type && !TYPES.includes(s.type)) {
    errs.push(notSupported(fp.child('type'), s.type, TYPES));
  }
  if (root && s.type && s.type !== 'object') errs.push(invalidField(fp.child('type'), s.type, 'must be object at the root'));
  if (s.type === 'array' && !s.items) errs.push(required(fp.child('items'), 'must be specified'));
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false) {
    errs.push(forbidden(fp.child('additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) validateStructural(p, fp.child('properties').key(k), errs, false);
  const items = s.items as JSONSchemaProps | JSONSchemaProps[] | undefined;
  if (items && !Array.isArray(items)) validateStructural(items, fp.child('items'), errs, false);
  if (typeof s.additionalProperties === 'object') validateStructural(s.additionalProperties as JSONSchemaProps, fp.child('additionalProperties'), errs, false);
  if (s.pattern !== undefined) {
    try { new RegExp(s.pattern, 'u'); } catch { errs.push(invalidField(fp.child('pattern'), s.pattern, 'must be a valid regular expression')); }
  }
}

function validateVersions(crd: CustomResourceDefinition, fp: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const versions = crd.spec?.versions ?? [];
  if (versions.length === 0) return [required(fp, 'must have exactly one version marked as storage version')];
  const seen = new Set<string>();
  let storage = 0, served = 0;
  versions.forEach((v, i) => {
    const vp = fp.index(i);
    if (!v.name) errs.push(required(vp.child('name'), ''));
    else if (!DNS1035.test(v.name)) errs.push(invalidField(vp.child('name'), v.name, DNS1035_MSG));
    else if (seen.has(v.name)) errs.push(duplicate(vp.child('name'), v.name));
    seen.add(v.name);
    if (v.storage) storage++;
    if (v.served) served++;
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) errs.push(required(vp.child('schema', 'openAPIV3Schema'), 'schemas are required'));
    else validateStructural(schema, vp.child('schema', 'openAPIV3Schema'), errs, true);
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      const cp = vp.child('additionalPrinterColumns').index(j);
      if (!c.name) errs.push(required(cp.child('name'), ''));
      if (!c.jsonPath) errs.push(required(cp.child('jsonPath'), ''));
      if (!['integer', 'number', 'string', 'boolean', 'date'].includes(c.type)) errs.push(notSupported(cp.child('type'), c.type, ['integer', 'number', 'string', 'boolean', 'date']));
    });
    const scale = v.subresources?.scale;
    if (scale) {
      const sp = vp.child('subresources', 'scale');
      if (!scale.specReplicasPath) errs.push(required(sp.child('specReplicasPath'), ''));
      else if (!scale.specReplicasPath.startsWith('.spec.')) errs.push(invalidField(sp.child('specReplicasPath'), scale.specReplicasPath, 'should be a json path under .spec'));
      if (!scale.statusReplicasPath) errs.push(required(sp.child('statusReplicasPath'), ''));
      else if (!scale.statusReplicasPath.startsWith('.status.')) errs.push(invalidField(sp.child('statusReplicasPath'), scale.statusReplicasPath, 'should be a json path under .status'));
    }
  });
  if (storage !== 1) errs.push(invalidField(fp, versions, 'must have exactly one version marked as storage version'));
  if (served === 0) errs.push(invalidField(fp, versions, 'must have at least one version marked as served'));
  return errs;
}

/** ValidateCustomResourceDefinition (and ...Update, against `old`). */
export function validateCrd(crd: CustomResourceDefinition, old?: CustomResourceDefinition): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(crd.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(crd.metadata, false, nameIsDNSSubdomain, path('metadata')));
  const spec = crd.spec;
  const sp = path('spec');
  if (!spec) return [...errs, required(sp, '')];
  const group = spec.group ?? '';
  if (!group) errs.push(required(sp.child('group'), ''));
  else if (!group.includes('.')) errs.push(invalidField(sp.child('group'), group, 'should be a domain with at least one dot'));
  const expected = `${spec.names?.plural ?? ''}.${group}`;
  if (crd.metadata?.name && crd.metadata.name !== expected) errs.push(invalidField(path('metadata', 'name'), crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(notSupported(sp.child('scope'), spec.scope ?? '', ['Cluster', 'Namespaced']));
  errs.push(...validateNames(spec.names, sp.child('names')));
  errs.push(...validateVersions(crd, sp.child('versions')));
  const conv = spec.conversion?.strategy;
  if (conv && conv !== 'None' && conv !== 'Webhook') errs.push(notSupported(sp.child('conversion', 'strategy'), conv, ['None', 'Webhook']));
  if (conv === 'Webhook') errs.push(forbidden(sp.child('conversion', 'strategy'), 'conversion webhooks are not supported by this server'));
  if (old) {
    if (old.spec?.scope && spec.scope !== old.spec.scope) errs.push(invalidField(sp.child('scope'), spec.scope, 'field is immutable'));
    if (old.spec?.names?.kind && spec.names?.kind !== old.spec.names.kind && (old.status?.storedVersions?.length ?? 0) > 0) {
      // Kubernetes allows kind changes only before anything is stored; keep it simple and strict.
    }
    const stored = old.status?.storedVersions ?? [];
    for (const v of stored) {
      if (!(spec.versions ?? []).some((x) => x.name === v)) {
        errs.push(invalidField(path('status', 'storedVersions'), stored, `must appear in spec.versions`));
      }
    }
  }
  return errs;
}
