#!/usr/bin/env node
/**
 * Generates src/apiserver/openapi/definitions.json: the OpenAPI (v3-style) component schemas of every
 * kind the API server serves, with the field documentation Kubernetes publishes.
 *
 * Source: the `kubernetes-types` package's .d.ts files. They are machine-generated from Kubernetes'
 * own OpenAPI document, so every interface is one schema and every JSDoc is the field's description;
 * the format is regular enough for a line parser (no TypeScript compiler needed). What the .d.ts files
 * do not carry (strategic-merge patch keys, int32/int64 formats, date-time formats) is added from the
 * small tables below, copied by hand from the Kubernetes API types' struct tags.
 *
 * Usage: node scripts/gen-openapi.mjs   (rewrites the JSON; commit the output)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const typesDir = dirname(require.resolve('kubernetes-types/package.json', { paths: [root] }));
const typesVersion = JSON.parse(readFileSync(join(typesDir, 'package.json'), 'utf8')).version;

/** .d.ts module (relative to the package) → Kubernetes OpenAPI definition-name prefix. */
const MODULES = {
  'core/v1': 'io.k8s.api.core.v1',
  'apps/v1': 'io.k8s.api.apps.v1',
  'discovery/v1': 'io.k8s.api.discovery.v1',
  'coordination/v1': 'io.k8s.api.coordination.v1',
  'autoscaling/v1': 'io.k8s.api.autoscaling.v1',
  'autoscaling/v2': 'io.k8s.api.autoscaling.v2',
  'batch/v1': 'io.k8s.api.batch.v1',
  'policy/v1': 'io.k8s.api.policy.v1',
  'networking/v1': 'io.k8s.api.networking.v1',
  'apiextensions/v1': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
  'rbac/v1': 'io.k8s.api.rbac.v1',
  'authentication/v1': 'io.k8s.api.authentication.v1',
  'authorization/v1': 'io.k8s.api.authorization.v1',
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'runtime': 'io.k8s.apimachinery.pkg.runtime',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
};
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Served kinds: each is a root together with its List. */
const KINDS = [
  'io.k8s.api.core.v1.Namespace', 'io.k8s.api.core.v1.Node', 'io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.Service',
  'io.k8s.api.core.v1.Endpoints', 'io.k8s.api.core.v1.Event', 'io.k8s.api.core.v1.ConfigMap',
  'io.k8s.api.apps.v1.Deployment', 'io.k8s.api.apps.v1.ReplicaSet', 'io.k8s.api.apps.v1.StatefulSet', 'io.k8s.api.apps.v1.DaemonSet',
  'io.k8s.api.discovery.v1.EndpointSlice', 'io.k8s.api.coordination.v1.Lease',
  'io.k8s.api.batch.v1.Job', 'io.k8s.api.batch.v1.CronJob', 'io.k8s.api.policy.v1.PodDisruptionBudget',
  'io.k8s.api.networking.v1.NetworkPolicy',
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler', 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
  'io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics', 'io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics',
];
/** Roots: every served kind, its list, and the other types the API answers with or takes. */
const ROOTS = [
  ...KINDS,
  'io.k8s.api.autoscaling.v1.Scale', 'io.k8s.api.core.v1.Binding', 'io.k8s.api.policy.v1.Eviction',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
];
/** Identity and access kinds (src/apiserver/auth): stored ones get a List root too, reviews do not. */
const AUTH_STORED = [
  'io.k8s.api.core.v1.ServiceAccount', 'io.k8s.api.core.v1.Secret',
  'io.k8s.api.rbac.v1.Role', 'io.k8s.api.rbac.v1.RoleBinding', 'io.k8s.api.rbac.v1.ClusterRole', 'io.k8s.api.rbac.v1.ClusterRoleBinding',
];
const AUTH_REVIEWS = [
  'io.k8s.api.authentication.v1.TokenRequest', 'io.k8s.api.authentication.v1.TokenReview', 'io.k8s.api.authentication.v1.SelfSubjectReview',
  'io.k8s.api.authorization.v1.SubjectAccessReview', 'io.k8s.api.authorization.v1.SelfSubjectAccessReview',
  'io.k8s.api.authorization.v1.SelfSubjectRulesReview', 'io.k8s.api.authorization.v1.LocalSubjectAccessReview',
];
ROOTS.push(...AUTH_STORED, ...AUTH_REVIEWS);
const LIST_ROOTS = [...KINDS, ...AUTH_STORED].map((n) => `${n}List`);

/** Strategic-merge metadata (Go struct tags patchStrategy/patchMergeKey), "Definition.field" → extensions. */
const PATCH = {
  'io.k8s.api.core.v1.PodSpec.containers': { key: 'name', strategy: 'merge' },
  'io.k8s.api.core.v1.PodSpec.initContainers': { key: 'name', strategy: 'merge' },
  'io.k8s.api.core.v1.PodSpec.ephemeralContainers': { key: 'name', strategy: 'merge' },
  'io.k8s.api.core.v1.PodSpec.volumes': { key: 'name', strategy: 'merge,retainKeys' },
  'io.k8s.api.core.v1.PodSpec.imagePullSecrets': { key: 'name', strategy: 'merge' },
  'io.k8s.api.core.v1.PodSpec.hostAliases': { key: 'ip', strategy: 'merge' },
  'io.k8s.api.core.v1.PodSpec.topologySpreadConstraints': { key: 'topologyKey', strategy: 'merge' },
  'io.k8s.api.core.v1.Container.ports': { key: 'containerPort', strategy: 'merge' },
  'io.k8s.api.core.v1.Container.env': { key: 'name', strategy: 'merge' },
  'io.k8s.api.core.v1.Container.volumeMounts': { key: 'mountPath', strategy: 'merge' },
  'io.k8s.api.core.v1.Container.volumeDevices': { key: 'devicePath', strategy: 'merge' },
  'io.k8s.api.core.v1.EphemeralContainer.ports': { key: 'containerPort', strategy: 'merge' },
  'io.k8s.api.core.v1.EphemeralContainer.env': { key: 'name', strategy: 'merge' },
  'io.k8s.api.core.v1.EphemeralContainer.volumeMounts': { key: 'mountPath', strategy: 'merge' },
  'io.k8s.api.core.v1.ServiceSpec.ports': { key: 'port', strategy: 'merge' },
  'io.k8s.api.core.v1.PodStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.core.v1.PodStatus.podIPs': { key: 'ip', strategy: 'merge' },
  'io.k8s.api.core.v1.NodeStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.core.v1.NodeStatus.addresses': { key: 'type', strategy: 'merge' },
  'io.k8s.api.core.v1.NamespaceStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.core.v1.ServiceStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.apps.v1.DeploymentSpec.strategy': { strategy: 'retainKeys' },
  'io.k8s.api.apps.v1.DeploymentStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.apps.v1.ReplicaSetStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.apps.v1.StatefulSetStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.ownerReferences': { key: 'uid', strategy: 'merge' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers': { strategy: 'merge' },
  'io.k8s.api.apps.v1.DaemonSetSpec.updateStrategy': { strategy: 'retainKeys' },
  'io.k8s.api.apps.v1.DaemonSetStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.batch.v1.JobStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus.conditions': { key: 'type', strategy: 'merge' },
  'io.k8s.api.core.v1.ServiceAccount.secrets': { key: 'name', strategy: 'merge' },
};

/** Fields Kubernetes declares float64. */
const DOUBLE = new Set(['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.maximum',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.minimum',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.multipleOf']);

/** Fields Kubernetes declares int64 (everything else numeric is int32). */
const INT64 = new Set(['generation', 'observedGeneration', 'deletionGracePeriodSeconds', 'activeDeadlineSeconds',
  'terminationGracePeriodSeconds', 'runAsUser', 'runAsGroup', 'fsGroup', 'sizeBytes', 'count', 'revision',
  'leaseTransitions', 'gracePeriodSeconds', 'supplementalGroups', 'expirationSeconds']);

/** Simple aliases (`export type X = string`) and their OpenAPI shapes. */
const ALIAS_FORMATS = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
  // Any JSON value: Kubernetes publishes these without a type.
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': {},
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': {},
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': {},
};

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });

function cleanDoc(lines) {
  // JSDoc body lines → text; " * " prefixes removed, paragraph breaks kept as in the Go doc comments.
  return lines.map((l) => l.replace(/^\s*\/\*\*\s?/, '').replace(/\s*\*\/\s*$/, '').replace(/^\s*\* ?/, ''))
    .join('\n').trim();
}

function parseModule(mod) {
  const prefix = MODULES[mod];
  const text = readFileSync(join(typesDir, `${mod}.d.ts`), 'utf8');
  const lines = text.split('\n');
  const imports = new Map();
  const defs = {};
  let doc = null;
  let cur = null; // { name, schema }
  let mapField = null; // { field, optional, doc }
  const resolve = (id) => {
    if (imports.has(id)) return imports.get(id);
    return `${prefix}.${id}`;
  };
  const typeOf = (t) => {
    t = t.trim();
    if (t === 'string' || /^"[^"]*"$/.test(t)) return { type: 'string' };
    if (t === 'boolean') return { type: 'boolean' };
    if (t === 'number') return { type: 'integer', format: 'int32' };
    if (t === 'number | string') return ref(INT_OR_STRING);
    const arr = /^Array<(.+)>$/.exec(t);
    if (arr) return { type: 'array', items: typeOf(arr[1]) };
    if (/^[A-Za-z0-9]+$/.test(t)) return ref(resolve(t));
    throw new Error(`${mod}: unsupported type ${t}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const imp = /^import \{ (.+) \} from "(.+)";$/.exec(line);
    if (imp) {
      let target = imp[2].replace(/^\.\.\//, '');
      if (target.startsWith('./')) target = `${mod.split('/')[0]}/${target.slice(2)}`;
      for (const id of imp[1].split(',').map((s) => s.trim())) imports.set(id, `${MODULES[target] ?? target}.${id}`);
      continue;
    }
    if (/^\s*\/\*\*/.test(line)) {
      const buf = [line];
      while (!/\*\/\s*$/.test(lines[i])) buf.push(lines[++i]);
      doc = cleanDoc(buf);
      continue;
    }
    const alias = /^export type (\w+) = (.+);$/.exec(line);
    if (alias) {
      const name = `${prefix}.${alias[1]}`;
      defs[name] = { ...(ALIAS_FORMATS[name] ?? { type: 'string' }), ...(doc ? { description: doc } : {}) };
      doc = null;
      continue;
    }
    const iface = /^export interface (\w+) \{$/.exec(line);
    if (iface) {
      cur = { name: `${prefix}.${iface[1]}`, schema: { ...(doc ? { description: doc } : {}), type: 'object', properties: {}, required: [] } };
      doc = null;
      continue;
    }
    if (line === '}' && cur) {
      const s = cur.schema;
      if (!s.required.length) delete s.required;
      if (!Object.keys(s.properties).length) delete s.properties;
      defs[cur.name] = s;
      cur = null;
      continue;
    }
    if (!cur) continue;
    const mapStart = /^    (?:readonly )?(\w+)(\??): \{$/.exec(line);
    if (mapStart) { mapField = { field: mapStart[1], optional: mapStart[2] === '?', doc }; doc = null; continue; }
    const mapVal = /^        \[name: string\]: (.+);$/.exec(line);
    if (mapVal && mapField) {
      const p = { type: 'object', additionalProperties: typeOf(mapVal[1]) };
      addProp(cur, mapField.field, mapField.optional, mapField.doc, p);
      continue;
    }
    if (/^    \};$/.test(line)) { mapField = null; continue; }
    const field = /^    (?:readonly )?(\w+)(\??): (.+);$/.exec(line);
    if (field) {
      let p = typeOf(field[3]);
      if (p.format === 'int32' && INT64.has(field[1])) p = { ...p, format: 'int64' };
      if (DOUBLE.has(`${cur.name}.${field[1]}`)) p = { type: 'number', format: 'double' };
      addProp(cur, field[1], field[2] === '?', doc, p);
      doc = null;
      const gv = /^"(.+)"$/.exec(field[3]);
      if (field[1] === 'apiVersion' && gv) cur.apiVersion = gv[1];
      if (field[1] === 'kind' && gv) {
        const [g, v] = cur.apiVersion.includes('/') ? cur.apiVersion.split('/') : ['', cur.apiVersion];
        cur.schema['x-kubernetes-group-version-kind'] = [{ group: g, kind: gv[1], version: v }];
      }
      continue;
    }
  }
  return defs;
}

function addProp(cur, name, optional, doc, p) {
  let prop = p;
  // Kubernetes' v3 documents wrap a described $ref in allOf (a $ref cannot carry siblings in OAS 3.0).
  if (p.$ref && doc) prop = { allOf: [p], description: doc };
  else if (doc) prop = { description: doc, ...p };
  const pm = PATCH[`${cur.name}.${name}`];
  if (pm) {
    if (pm.key) prop['x-kubernetes-patch-merge-key'] = pm.key;
    prop['x-kubernetes-patch-strategy'] = pm.strategy;
  }
  cur.schema.properties[name] = prop;
  if (!optional) cur.schema.required.push(name);
}

const all = {
  [INT_OR_STRING]: {
    description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true,
  },
};
for (const mod of Object.keys(MODULES)) Object.assign(all, parseModule(mod));

// apiextensions: `JSON` is any value; JSONSchemaProps carries the x-kubernetes-* extensions the .d.ts
// files leave out (their names are not identifiers). Descriptions are Kubernetes' own.
const AX = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
all[`${AX}.JSON`] = { description: all[`${AX}.JSON`].description };
Object.assign(all[`${AX}.JSONSchemaProps`].properties, {
  'x-kubernetes-embedded-resource': { description: 'x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta. The type must be object. It is allowed to further restrict the embedded object. kind, apiVersion and metadata are validated automatically. x-kubernetes-preserve-unknown-fields is allowed to be true, but does not have to be if the object is fully specified (up to kind, apiVersion, metadata).', type: 'boolean' },
  'x-kubernetes-int-or-string': { description: 'x-kubernetes-int-or-string specifies that this value is either an integer or a string. If this is true, an empty type is allowed and type as child of anyOf is permitted if following one of the following patterns:\n\n1) anyOf:\n   - type: integer\n   - type: string\n2) allOf:\n   - anyOf:\n     - type: integer\n     - type: string\n   - ... zero or more', type: 'boolean' },
  'x-kubernetes-list-map-keys': { description: 'x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map.\n\nThis tag MUST only be used on lists that have the "x-kubernetes-list-type" extension set to "map". Also, the values specified for this attribute must be a scalar typed field of the child structure (no nesting is supported).\n\nThe properties specified must either be required or have a default value, to ensure those properties are present for all list items.', type: 'array', items: { type: 'string' } },
  'x-kubernetes-list-type': { description: 'x-kubernetes-list-type annotates an array to further describe its topology. This extension must only be used on lists and may have 3 possible values:\n\n1) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic lists will be entirely replaced when updated. This extension\n     may be used on any type of list (struct, scalar, ...).\n2) `set`:\n     Sets are lists that must not have multiple items with the same value. Each\n     value must be a scalar, an object with x-kubernetes-map-type `atomic` or an\n     array with x-kubernetes-list-type `atomic`.\n3) `map`:\n     These lists are like maps in that their elements have a non-index key\n     used to identify them. Order is preserved upon merge. The map tag\n     must only be used on a list with elements of type object.\nDefaults to atomic for arrays.', type: 'string' },
  'x-kubernetes-map-type': { description: 'x-kubernetes-map-type annotates an object to further describe its topology. This extension must only be used when type is object and may have 2 possible values:\n\n1) `granular`:\n     These maps are actual maps (key-value pairs) and each fields are independent\n     from each other (they can each be manipulated by separate actors). This is\n     the default behaviour for all maps.\n2) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic maps will be entirely replaced when updated.', type: 'string' },
  'x-kubernetes-preserve-unknown-fields': { description: 'x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema. This affects fields recursively, but switches back to normal pruning behaviour if nested properties or additionalProperties are specified in the schema. This can either be true or undefined. False is forbidden.', type: 'boolean' },
  'x-kubernetes-validations': { description: 'x-kubernetes-validations describes a list of validation rules written in the CEL expression language.', type: 'array', items: ref(`${AX}.ValidationRule`), 'x-kubernetes-list-map-keys': ['rule'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'rule', 'x-kubernetes-patch-strategy': 'merge' },
});

// metrics.k8s.io/v1beta1 (k8s.io/metrics): not in kubernetes-types; written from its Go types and docs.
const MX = 'io.k8s.metrics.pkg.apis.metrics.v1beta1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const usage = { description: 'The memory and CPU usage.', type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') };
const typeMeta = (kind) => ({
  apiVersion: { description: all[`io.k8s.api.core.v1.Pod`].properties.apiVersion.description, type: 'string' },
  kind: { description: all[`io.k8s.api.core.v1.Pod`].properties.kind.description, type: 'string' },
  metadata: { allOf: [ref(`${META}.ObjectMeta`)], description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" },
  timestamp: { allOf: [ref(`${META}.Time`)], description: 'The following fields define time interval from which metrics were collected from the interval [Timestamp-Window, Timestamp].' },
  window: { description: 'Duration of the interval the usage was measured over (a Go duration string such as "15s").', type: 'string' },
  _kind: kind,
});
const withGvk = (kind, props, required, description) => {
  const { _kind, ...p } = props;
  return { description, type: 'object', properties: p, required, 'x-kubernetes-group-version-kind': [{ group: 'metrics.k8s.io', kind, version: 'v1beta1' }] };
};
all[`${MX}.NodeMetrics`] = withGvk('NodeMetrics', { ...typeMeta('NodeMetrics'), usage }, ['timestamp', 'window', 'usage'], 'NodeMetrics sets resource usage metrics of a node.');
all[`${MX}.ContainerMetrics`] = { description: 'ContainerMetrics sets resource usage metrics of a container.', type: 'object', properties: { name: { description: 'Container name corresponding to the one from pod.spec.containers.', type: 'string' }, usage }, required: ['name', 'usage'] };
all[`${MX}.PodMetrics`] = withGvk('PodMetrics', { ...typeMeta('PodMetrics'), containers: { description: 'Metrics for all containers are collected within the same time window.', type: 'array', items: ref(`${MX}.ContainerMetrics`), 'x-kubernetes-list-type': 'atomic' } }, ['timestamp', 'window', 'containers'], 'PodMetrics sets resource usage metrics of a pod.');
for (const k of ['NodeMetrics', 'PodMetrics']) {
  all[`${MX}.${k}List`] = {
    description: `${k}List is a list of ${k}.`, type: 'object', required: ['items'],
    properties: {
      apiVersion: typeMeta(k).apiVersion, kind: typeMeta(k).kind,
      items: { description: `List of ${k === 'NodeMetrics' ? 'node' : 'pod'} metrics.`, type: 'array', items: ref(`${MX}.${k}`) },
      metadata: { allOf: [ref(`${META}.ListMeta`)], description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    },
    'x-kubernetes-group-version-kind': [{ group: 'metrics.k8s.io', kind: `${k}List`, version: 'v1beta1' }],
  };
}

// Keep what the served kinds reach, so the committed file stays small.
const keep = {};
const visit = (name) => {
  if (keep[name]) return;
  const s = all[name];
  if (!s) throw new Error(`missing definition ${name}`);
  keep[name] = s;
  JSON.stringify(s, (k, v) => { if (k === '$ref') visit(v.replace('#/components/schemas/', '')); return v; });
};
[...ROOTS, ...LIST_ROOTS].forEach(visit);
const sorted = Object.fromEntries(Object.keys(keep).sort().map((k) => [k, keep[k]]));
const out = join(root, 'src/apiserver/openapi/definitions.json');
writeFileSync(out, `${JSON.stringify({ source: `kubernetes-types@${typesVersion}`, schemas: sorted }, null, 1)}\n`);
console.log(`wrote ${Object.keys(sorted).length} schemas to ${out}`);
