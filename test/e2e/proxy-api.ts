/**
 * The API the proxy's kernel tests write Services and EndpointSlices through: the real in-process
 * API core (src/apiserver/core.ts with in-memory storage) when it is present, else the in-memory
 * FakeClient (until the API server lands; the test output says which one ran).
 */
import type { Client } from '../../src/client/client.js';
import { FakeClient } from '../../src/client/testing/fake.js';

export interface TestApi { client: Client; real: boolean; close(): Promise<void> }

/** `allowExternalIPs`: let Services set spec.externalIPs (the API denies them by default, CVE-2020-8554). */
export async function makeTestApi(opts: { allowExternalIPs?: boolean } = {}): Promise<TestApi> {
  try {
    const corePath = '../../src/apiserver/core.js';
    const storagePath = '../../src/storage/memory.js';
    const core = await import(corePath) as { createApiCore(o: unknown): Promise<{ client: Client; close(): unknown }> | { client: Client; close(): unknown } };
    const storage = await import(storagePath) as { MemoryStorage: new () => unknown };
    const api = await core.createApiCore({ storage: new storage.MemoryStorage(), ...opts });
    return { client: api.client, real: true, close: async () => { await api.close(); } };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    return { client: new FakeClient(), real: false, close: async () => {} };
  }
}
