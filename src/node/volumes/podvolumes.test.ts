import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { referencedObjects } from './podvolumes.js';

test('referencedObjects: volumes, projected sources, env and envFrom of every kind of container, ephemeral ones included', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      volumes: [
        { name: 'a', configMap: { name: 'cm-vol' } },
        { name: 'b', secret: { secretName: 's-vol' } },
        { name: 'c', projected: { sources: [{ configMap: { name: 'cm-proj' } }, { secret: { name: 's-proj' } }, { serviceAccountToken: { path: 't' } }] } },
      ],
      initContainers: [{ name: 'i', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm-init', key: 'k' } } }] }],
      containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's-from' } }] }],
      // A debug container added later (kubectl debug) reading a Secret the others do not.
      ephemeralContainers: [{ name: 'dbg', env: [{ name: 'Y', valueFrom: { secretKeyRef: { name: 's-debug', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'cm-debug' } }] }],
    },
  };
  const r = referencedObjects(pod);
  assert.deepEqual([...r.configMaps].sort(), ['ns/cm-debug', 'ns/cm-init', 'ns/cm-proj', 'ns/cm-vol']);
  assert.deepEqual([...r.secrets].sort(), ['ns/s-debug', 'ns/s-from', 'ns/s-proj', 'ns/s-vol']);
});
