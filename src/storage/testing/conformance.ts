/**
 * The Storage conformance suite. Every backend runs it in a few lines:
 *
 *   runStorageConformance('memory', async () => ({ storage: new MemoryStorage({ historySize: 8 }), cleanup: async () => {} }));
 *
 * The factory must return a fresh, empty store whose watch history holds at least 8 events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStorageError, type Storage, type StorageEvent } from '../storage.js';

export interface ConformanceSubject {
  storage: Storage;
  cleanup(): Promise<void>;
}

async function withStore(factory: () => Promise<ConformanceSubject>, fn: (s: Storage) => Promise<void>): Promise<void> {
  const subj = await factory();
  try {
    await fn(subj.storage);
  } finally {
    await subj.storage.close().catch(() => {});
    await subj.cleanup();
  }
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isStorageError(e) && e.code === code);
}

/** Registers the conformance tests for one backend. */
export function runStorageConformance(name: string, factory: () => Promise<ConformanceSubject>): void {
  describe(`storage conformance: ${name}`, () => {
    it('create/get and one increasing revision for all keys', async () => {
      await withStore(factory, async (s) => {
        const r0 = s.revision();
        const a = await s.create('/r/a', 'A');
        const b = await s.create('/r/b', 'B');
        assert.equal(a.modRevision, r0 + 1);
        assert.equal(b.modRevision, r0 + 2);
        assert.equal(a.createRevision, a.modRevision);
        assert.equal(s.revision(), r0 + 2);
        assert.deepEqual(await s.get('/r/a'), a);
        assert.equal(await s.get('/r/zzz'), undefined);
        await rejectsWith(s.create('/r/a', 'again'), 'KeyExists');
        assert.equal(s.revision(), r0 + 2, 'a failed create does not bump the revision');
      });
    });

    it('update with and without mod-revision precondition', async () => {
      await withStore(factory, async (s) => {
        const a = await s.create('/r/a', '1');
        const a2 = await s.update('/r/a', '2', a.modRevision);
        assert.equal(a2.value, '2');
        assert.equal(a2.createRevision, a.createRevision);
        assert.ok(a2.modRevision > a.modRevision);
        await rejectsWith(s.update('/r/a', 'stale', a.modRevision), 'Conflict');
        assert.equal((await s.get('/r/a'))!.value, '2');
        const a3 = await s.update('/r/a', '3');
        assert.equal(a3.value, '3');
        await rejectsWith(s.update('/r/missing', 'x'), 'KeyNotFound');
      });
    });

    it('delete with precondition bumps the revision', async () => {
      await withStore(factory, async (s) => {
        const a = await s.create('/r/a', '1');
        await rejectsWith(s.delete('/r/a', a.modRevision + 100), 'Conflict');
        const d = await s.delete('/r/a', a.modRevision);
        assert.equal(d.prev.value, '1');
        assert.equal(d.revision, a.modRevision + 1);
        assert.equal(s.revision(), d.revision);
        assert.equal(await s.get('/r/a'), undefined);
        await rejectsWith(s.delete('/r/a'), 'KeyNotFound');
        const again = await s.create('/r/a', 'new');
        assert.equal(again.createRevision, d.revision + 1, 'recreate gets a fresh create revision');
      });
    });

    it('list by prefix, ordered, with limit and continue', async () => {
      await withStore(factory, async (s) => {
        for (const k of ['c', 'a', 'e', 'b', 'd']) await s.create(`/p/${k}`, k);
        await s.create('/q/x', 'x');
        await s.create('/pp/y', 'y');
        const all = await s.list('/p/');
        assert.deepEqual(all.items.map((i) => i.value), ['a', 'b', 'c', 'd', 'e']);
        assert.equal(all.revision, s.revision());
        assert.equal(all.continueAfter, undefined);
        const p1 = await s.list('/p/', { limit: 2 });
        assert.deepEqual(p1.items.map((i) => i.value), ['a', 'b']);
        assert.equal(p1.remaining, 3);
        const p2 = await s.list('/p/', { limit: 2, continueAfter: p1.continueAfter });
        assert.deepEqual(p2.items.map((i) => i.value), ['c', 'd']);
        const p3 = await s.list('/p/', { limit: 2, continueAfter: p2.continueAfter });
        assert.deepEqual(p3.items.map((i) => i.value), ['e']);
        assert.equal(p3.continueAfter, undefined);
        const exact = await s.list('/p/', { limit: 5 });
        assert.equal(exact.items.length, 5);
        assert.equal(exact.continueAfter, undefined, 'no continue when nothing follows');
      });
    });

    it('watch delivers history after fromRevision, then live events, in order, filtered by prefix', async () => {
      await withStore(factory, async (s) => {
        const a = await s.create('/w/a', '1');
        await s.create('/other/x', 'x');
        await s.update('/w/a', '2');
        const seen: StorageEvent[] = [];
        const w = s.watch('/w/', a.modRevision, (ev) => seen.push(ev));
        assert.deepEqual(seen.map((e) => [e.type, e.kv.value]), [['put', '2']]);
        assert.equal(seen[0].prev?.value, '1');
        await s.create('/w/b', 'b');
        await s.delete('/w/a');
        await s.create('/other/y', 'y');
        assert.deepEqual(seen.map((e) => [e.type, e.kv.key]), [['put', '/w/a'], ['put', '/w/b'], ['delete', '/w/a']]);
        const revs = seen.map((e) => e.revision);
        assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
        assert.equal(seen[2].kv.modRevision, seen[2].revision, 'a delete event carries the delete revision');
        assert.equal(seen[2].kv.value, '2', 'a delete event carries the last value');
        w.stop();
        await s.create('/w/c', 'c');
        assert.equal(seen.length, 3, 'no events after stop');
      });
    });

    it('watch from a compacted revision fails with Compacted; current revision works', async () => {
      await withStore(factory, async (s) => {
        const first = await s.create('/c/a', '0');
        for (let i = 1; i < 5; i++) await s.update('/c/a', String(i));
        await s.compact(s.revision() - 1);
        assert.throws(() => s.watch('/c/', first.modRevision, () => {}), (e: unknown) => isStorageError(e, 'Compacted'));
        const seen: string[] = [];
        const w = s.watch('/c/', s.revision() - 1, (ev) => seen.push(ev.kv.value));
        assert.deepEqual(seen, ['4']);
        w.stop();
      });
    });

    it('bounded history: very old revisions become Compacted without an explicit compact', async () => {
      await withStore(factory, async (s) => {
        const first = await s.create('/h/a', '0');
        for (let i = 0; i < 200_0; i++) await s.update('/h/a', String(i));
        assert.throws(() => s.watch('/h/', first.modRevision, () => {}), (e: unknown) => isStorageError(e, 'Compacted'));
      });
    });

    it('keys and values round-trip exactly (unicode, large values)', async () => {
      await withStore(factory, async (s) => {
        const big = JSON.stringify({ data: 'x'.repeat(2_000_000), u: 'ünïcødé ☃ 𝄞' });
        await s.create('/u/ünï', big);
        assert.equal((await s.get('/u/ünï'))!.value, big);
        assert.equal((await s.list('/u/')).items.length, 1);
      });
    });

    it('operations after close fail with Closed', async () => {
      const subj = await factory();
      await subj.storage.close();
      await rejectsWith(subj.storage.get('/x'), 'Closed');
      await subj.cleanup();
    });
  });
}
