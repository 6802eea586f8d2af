import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeK8sProtobuf, isK8sProtobuf } from './decode.js';
import { ApiError } from '../../../api/errors.js';

// The exact body kubectl 1.32 sent for
//   kubectl create deployment web --image=nginx:1.27 --port=8080 --replicas=0
// (captured with -v=9 against this server).
const KUBECTL_CREATE_DEPLOYMENT = Buffer.from('6b3873000a150a07617070732f7631120a4465706c6f796d656e7412be010a1f0a0377656212001a0022002a003200380042005a0a0a036170701203776562128c010800120c0a0a0a0361707012037765621a720a1c0a0012001a0022002a003200380042005a0a0a036170701203776562125212340a056e67696e78120a6e67696e783a312e32372a00320b0a00100018903f22002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200', 'hex');

test('decodes the protobuf Deployment kubectl create sends into its JSON form', () => {
  assert.ok(isK8sProtobuf(KUBECTL_CREATE_DEPLOYMENT));
  const d = decodeK8sProtobuf(KUBECTL_CREATE_DEPLOYMENT);
  assert.deepEqual(d, {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      // a pointer field: zero survives
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }], resources: {} }] },
      },
      strategy: {},
    },
    status: {},
  });
});

test('garbage and truncated bodies are 400 BadRequest, never a crash', () => {
  for (const b of [Buffer.from('k8s\0\x0a\xff'), Buffer.from('nope'), KUBECTL_CREATE_DEPLOYMENT.subarray(0, 60)]) {
    assert.throws(() => decodeK8sProtobuf(b), (e: unknown) => e instanceof ApiError && e.code === 400);
  }
});

test('decodes a protobuf NetworkPolicy (named port as IntOrString, empty podSelector)', async () => {
  const { Writer } = (await import('protobufjs')).default;
  const msg = (build: (w: InstanceType<typeof Writer>) => void): Uint8Array => { const w = Writer.create(); build(w); return w.finish(); };
  const bytes = (w: InstanceType<typeof Writer>, field: number, b: Uint8Array): void => { w.uint32((field << 3) | 2).bytes(b); };
  const str = (w: InstanceType<typeof Writer>, field: number, s: string): void => { w.uint32((field << 3) | 2).string(s); };
  const labelSelector = (labels: Record<string, string>) => msg((w) => {
    for (const [k, v] of Object.entries(labels)) bytes(w, 1, msg((e) => { str(e, 1, k); str(e, 2, v); }));
  });
  const port = msg((w) => { str(w, 1, 'TCP'); bytes(w, 2, msg((i) => { i.uint32(8).int64(1); str(i, 3, 'http'); })); });
  const rule = msg((w) => { bytes(w, 1, port); bytes(w, 2, msg((p) => bytes(p, 1, labelSelector({ app: 'client' })))); });
  const np = msg((w) => {
    bytes(w, 1, msg((m) => str(m, 1, 'web-from-client')));
    bytes(w, 2, msg((s) => { bytes(s, 1, labelSelector({})); bytes(s, 2, rule); str(s, 4, 'Ingress'); }));
  });
  const unknown = msg((w) => {
    bytes(w, 1, msg((t) => { str(t, 1, 'networking.k8s.io/v1'); str(t, 2, 'NetworkPolicy'); }));
    bytes(w, 2, np);
  });
  const body = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from(unknown)]);
  assert.ok(isK8sProtobuf(body));
  assert.deepEqual(decodeK8sProtobuf(body), {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-client' },
    spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP', port: 'http' }], from: [{ podSelector: { matchLabels: { app: 'client' } } }] }], policyTypes: ['Ingress'] },
  });
});
