/**
 * The strategic-merge metadata of the served kinds: which lists merge (and by which key), which
 * maps honour `$retainKeys`. Transcribed from the `patchStrategy` / `patchMergeKey` struct tags of
 * k8s.io/api (core/v1, apps/v1, meta/v1). A field not listed here is a plain field: maps merge
 * key by key, lists are replaced wholesale.
 */

/** Patch metadata of one field. */
export interface FieldMeta {
  /** `merge` for lists merged element-wise; absent for replace-wholesale lists. */
  readonly strategy?: 'merge';
  /** For lists of objects: the key identifying elements ("name", "containerPort", ...). */
  readonly mergeKey?: string;
  /** Schema of the value (for lists: of each element). */
  readonly type?: TypeSchema;
}

/** Patch metadata of an object type: its fields. */
export interface TypeSchema {
  readonly fields: Readonly<Record<string, FieldMeta>>;
}

const obj = (fields: Record<string, FieldMeta>): TypeSchema => ({ fields });
const mergeBy = (mergeKey: string, type?: TypeSchema): FieldMeta => ({ strategy: 'merge', mergeKey, type });
const mergePrimitives: FieldMeta = { strategy: 'merge' };
const nested = (type: TypeSchema): FieldMeta => ({ type });

const condition = obj({});

export const OBJECT_META = obj({
  finalizers: mergePrimitives,
  ownerReferences: mergeBy('uid'),
});

const CONTAINER = obj({
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
});

export const POD_SPEC = obj({
  volumes: mergeBy('name'),
  initContainers: mergeBy('name', CONTAINER),
  containers: mergeBy('name', CONTAINER),
  ephemeralContainers: mergeBy('name', CONTAINER),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  resourceClaims: mergeBy('name'),
  schedulingGates: mergeBy('name'),
});

const POD_TEMPLATE_SPEC = obj({ metadata: nested(OBJECT_META), spec: nested(POD_SPEC) });

const withStatusConditions = (spec: TypeSchema, extraStatus: Record<string, FieldMeta> = {}): TypeSchema => obj({
  metadata: nested(OBJECT_META),
  spec: nested(spec),
  status: nested(obj({ conditions: mergeBy('type', condition), ...extraStatus })),
});

/** Schemas by `group/Kind` ("" group for core). Kinds missing here get JSON merge patch semantics. */
export const PATCH_SCHEMAS: Readonly<Record<string, TypeSchema>> = {
  '/Pod': withStatusConditions(POD_SPEC, { podIPs: mergeBy('ip'), hostIPs: mergeBy('ip') }),
  '/Service': withStatusConditions(obj({ ports: mergeBy('port') })),
  '/Namespace': withStatusConditions(obj({})),
  '/Node': withStatusConditions(obj({ podCIDRs: mergePrimitives }), { addresses: mergeBy('type') }),
  '/Endpoints': obj({ metadata: nested(OBJECT_META) }),
  '/Event': obj({ metadata: nested(OBJECT_META) }),
  '/ConfigMap': obj({ metadata: nested(OBJECT_META) }),
  'apps/Deployment': withStatusConditions(obj({ template: nested(POD_TEMPLATE_SPEC) })),
  'apps/ReplicaSet': withStatusConditions(obj({ template: nested(POD_TEMPLATE_SPEC) })),
  'apps/StatefulSet': withStatusConditions(obj({ template: nested(POD_TEMPLATE_SPEC) })),
  'discovery.k8s.io/EndpointSlice': obj({ metadata: nested(OBJECT_META) }),
  'coordination.k8s.io/Lease': obj({ metadata: nested(OBJECT_META) }),
};
