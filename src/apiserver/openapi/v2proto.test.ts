/**
 * The protobuf /openapi/v2 read back with a generic wire-format reader (field numbers of gnostic's
 * OpenAPIv2.proto): the document, a definition with its properties and group-version-kind extension,
 * and a path's operations and parameters — what kubectl's parser (kube-openapi proto) walks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { encodeOpenApiV2, openapiV2Protobuf } from './v2proto.js';

type Fields = Map<number, Buffer[]>;

/** Splits one message into its fields (varints as 1-byte buffers holding the value when small). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): number => {
    let n = 0; let mul = 1;
    for (;;) { const b = buf[i++]!; n += (b & 0x7f) * mul; if (!(b & 0x80)) return n; mul *= 128; }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: Buffer;
    if (wire === 0) value = Buffer.from([varint()]);
    else if (wire === 2) { const len = varint(); value = buf.subarray(i, i + len); i += len; }
    else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  assert.equal(i, buf.length, 'the message ends exactly at its last field');
  return out;
}
const str = (f: Fields, n: number): string | undefined => f.get(n)?.[0]?.toString('utf8');
const strs = (f: Fields, n: number): string[] => (f.get(n) ?? []).map((b) => b.toString('utf8'));
/** Repeated Named* { name = 1, value = 2 } pairs of field `n`, as a map of name → value fields. */
const named = (f: Fields, n: number): Map<string, Fields> => new Map((f.get(n) ?? []).map((b) => { const p = fields(b); return [str(p, 1)!, fields(p.get(2)![0]!)]; }));

test('a small document: every mapped field lands where gnostic puts it', () => {
  const doc = fields(encodeOpenApiV2({
    swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: { '/api/v1/namespaces/{namespace}/pods/{name}': {
      parameters: [{ name: 'name', in: 'path', required: true, type: 'string', uniqueItems: true }],
      patch: { operationId: 'patchCoreV1NamespacedPod', consumes: ['application/merge-patch+json'], produces: ['application/json'], schemes: ['https'],
        'x-kubernetes-action': 'patch',
        parameters: [{ name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } },
          { name: 'fieldValidation', in: 'query', type: 'string', uniqueItems: true }],
        responses: { 200: { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.core.v1.Pod' } } } },
    } },
    definitions: { 'io.k8s.api.core.v1.Pod': {
      type: 'object', required: ['spec'], description: 'Pod',
      properties: { spec: { $ref: '#/definitions/io.k8s.api.core.v1.PodSpec' }, labels: { type: 'object', additionalProperties: { type: 'string' } }, ports: { type: 'array', items: { type: 'integer', format: 'int32' } } },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Pod', version: 'v1' }],
    } },
  }));
  assert.equal(str(doc, 1), '2.0');
  const info = fields(doc.get(2)![0]!);
  assert.deepEqual([str(info, 1), str(info, 2)], ['Kubernetes', 'v1.32.0']);

  const pod = named(fields(doc.get(9)![0]!), 1).get('io.k8s.api.core.v1.Pod')!;
  assert.deepEqual(strs(fields(pod.get(22)![0]!), 1), ['object']);
  assert.deepEqual(strs(pod, 19), ['spec']);
  assert.equal(str(pod, 4), 'Pod');
  const props = named(fields(pod.get(25)![0]!), 1);
  assert.equal(str(props.get('spec')!, 1), '#/definitions/io.k8s.api.core.v1.PodSpec');
  const labelsValue = fields(fields(props.get('labels')!.get(21)![0]!).get(1)![0]!);
  assert.deepEqual(strs(fields(labelsValue.get(22)![0]!), 1), ['string']);
  const portItem = fields(fields(props.get('ports')!.get(23)![0]!).get(1)![0]!);
  assert.equal(str(portItem, 2), 'int32');
  const ext = named(pod, 31).get('x-kubernetes-group-version-kind')!;
  assert.deepEqual(parseYaml(str(ext, 2)!), [{ group: '', kind: 'Pod', version: 'v1' }]);

  const item = named(fields(doc.get(8)![0]!), 2).get('/api/v1/namespaces/{namespace}/pods/{name}')!;
  const pathParam = fields(fields(fields(fields(item.get(9)![0]!).get(1)![0]!).get(2)![0]!).get(4)![0]!);
  assert.deepEqual([str(pathParam, 4), str(pathParam, 2), str(pathParam, 5)], ['name', 'path', 'string']);
  const patch = fields(item.get(8)![0]!);
  assert.equal(str(patch, 5), 'patchCoreV1NamespacedPod');
  assert.deepEqual(strs(patch, 7), ['application/merge-patch+json']);
  const [body, query] = patch.get(8)!.map((b) => fields(fields(b).get(1)![0]!));
  assert.equal(str(fields(fields(body!.get(1)![0]!).get(5)![0]!), 1), '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  const q = fields(fields(query!.get(2)![0]!).get(3)![0]!);
  assert.deepEqual([str(q, 4), str(q, 2), str(q, 6)], ['fieldValidation', 'query', 'string']);
  const ok = named(fields(patch.get(9)![0]!), 1).get('200')!;
  assert.equal(str(fields(ok.get(1)![0]!), 1), 'OK');
});

test('the served document encodes every definition, each Kind with its group-version-kind', () => {
  const doc = fields(openapiV2Protobuf());
  const defs = named(fields(doc.get(9)![0]!), 1);
  assert.ok(defs.size > 100, `${defs.size} definitions`);
  const svc = defs.get('io.k8s.api.core.v1.Service')!;
  assert.deepEqual(parseYaml(str(named(svc, 31).get('x-kubernetes-group-version-kind')!, 2)!), [{ group: '', kind: 'Service', version: 'v1' }]);
  assert.ok(named(fields(svc.get(25)![0]!), 1).has('spec'));
  assert.ok(named(fields(doc.get(8)![0]!), 2).has('/api/v1/namespaces/{namespace}/services/{name}'));
});
