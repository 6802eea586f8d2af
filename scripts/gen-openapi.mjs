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
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'runtime': 'io.k8s.apimachinery.pkg.runtime',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
};
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Roots: every served kind, its list, and the meta types the API answers with. */
const ROOTS = [
  'io.k8s.api.core.v1.Namespace', 'io.k8s.api.core.v1.Node', 'io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.Service',
  'io.k8s.api.core.v1.Endpoints', 'io.k8s.api.core.v1.Event', 'io.k8s.api.core.v1.ConfigMap',
  'io.k8s.api.apps.v1.Deployment', 'io.k8s.api.apps.v1.ReplicaSet', 'io.k8s.api.apps.v1.StatefulSet',
  'io.k8s.api.discovery.v1.EndpointSlice', 'io.k8s.api.coordination.v1.Lease', 'io.k8s.api.autoscaling.v1.Scale',
  'io.k8s.api.core.v1.Binding',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
];
const LIST_ROOTS = ROOTS.slice(0, 12).map((n) => `${n}List`);

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
};

/** Fields Kubernetes declares int64 (everything else numeric is int32). */
const INT64 = new Set(['generation', 'observedGeneration', 'deletionGracePeriodSeconds', 'activeDeadlineSeconds',
  'terminationGracePeriodSeconds', 'runAsUser', 'runAsGroup', 'fsGroup', 'sizeBytes', 'count', 'revision',
  'leaseTransitions', 'gracePeriodSeconds', 'supplementalGroups']);

/** Simple aliases (`export type X = string`) and their OpenAPI shapes. */
const ALIAS_FORMATS = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
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
