/** Shared setup for the controller benchmarks: an in-process API core on MemoryStorage. */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { R } from '../../src/api/resources.js';
import type { Client } from '../../src/client/client.js';
import { createApiCore } from '../../src/apiserver/core.js';
import { MemoryStorage } from '../../src/storage/memory.js';

export async function core(): Promise<{ client: Client; close(): Promise<void> | void }> {
  return createApiCore({ storage: new MemoryStorage() });
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** `n` Services `s<i>` selecting `app=a<i>`, each with `perSvc` bound Running Pods (Ready as given). */
export async function populate(client: Client, ns: string, n: number, perSvc: number, ready: boolean, concurrency = 64): Promise<void> {
  await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const jobs: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < n; i++) {
    jobs.push(() => client.create<Service>(R.services, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}` },
      spec: { selector: { app: `a${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }));
    for (let j = 0; j < perSvc; j++) {
      const k = i * perSvc + j;
      const ip = `10.${244 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
      jobs.push(async () => {
        const p = await client.create<Pod>(R.pods, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}-${j}`, labels: { app: `a${i}` } },
          spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] } });
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        await client.update<Pod>(R.pods, ns, { ...p, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }],
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } }, { subresource: 'status' });
      });
    }
  }
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}
