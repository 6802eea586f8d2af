import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { createApiCore } from '../apiserver/core.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import { MemoryStorage } from '../storage/memory.js';
import { registerNode } from './registration.js';

test('registerNode on a Node someone else writes meanwhile: the conflict is read again and retried, labels and status land', async (t) => {
  const core = await createApiCore({ storage: new MemoryStorage() });
  t.after(() => core.close());
  // As the join API does: the Node exists before its agent starts.
  await core.client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'm2' }, spec: {} });
  // Another writer (node IPAM, the lifecycle controller's taint) changes the Node between the agent's
  // read and its first update, twice.
  let interleaved = 0;
  const client = new Proxy(core.client, {
    get(target, prop, recv) {
      if (prop === 'update') {
        return async (...args: Parameters<Client['update']>) => {
          if (args[3]?.subresource === undefined && interleaved < 2) {
            interleaved++;
            const cur = await target.get<Node>(R.nodes, undefined, 'm2');
            await target.update(R.nodes, undefined, { ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata?.annotations, [`other-${interleaved}`]: 'x' } } });
          }
          return target.update(...args);
        };
      }
      return Reflect.get(target, prop, recv) as unknown;
    },
  }) as Client;
  const node = await registerNode(client, { nodeName: 'm2', podCIDR: '10.244.2.0/24', internalIP: '192.168.77.2', labels: { role: 'worker' } }, true);
  assert.equal(interleaved, 2);
  assert.equal(node.metadata?.labels?.role, 'worker');
  assert.equal(node.spec?.podCIDR, '10.244.2.0/24');
  assert.equal(node.metadata?.annotations?.['other-2'], 'x', 'the other writer\'s change is kept');
  assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
});
