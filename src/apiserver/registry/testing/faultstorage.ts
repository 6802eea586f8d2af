/**
 * A Storage wrapper for unit tests of the registry's error handling: it passes everything to a real
 * backend, except that while a fault is armed its writes (create, update, delete) fail with that
 * fault instead — a StorageError of any code, or any other Error (a backend failure nobody
 * anticipated). Reads, watches and compaction always pass through, so the watch caches stay true
 * to the backend. It counts the calls that reached it on requests, to show which verbs write.
 */
import {
  StorageError, type KeyValue, type ListOptions, type ListResult, type Storage, type StorageErrorCode, type StorageEvent, type StorageWatch,
} from '../../../storage/storage.js';

/** What an armed write fails with. */
export type Fault = StorageErrorCode | Error;

export class FaultStorage implements Storage {
  private fault?: Fault;
  private remaining = 0;
  /** Writes attempted (failed or not) since the last `reset()`. */
  writes = 0;
  /** `get` calls since the last `reset()` (the store reads storage only to catch up after a conflict). */
  gets = 0;

  constructor(private readonly inner: Storage) {}

  /** Makes the next `times` writes (default: every write until `disarm()`) fail with `fault`. */
  arm(fault: Fault, times = Infinity): void {
    this.fault = fault;
    this.remaining = times;
  }

  disarm(): void {
    this.fault = undefined;
    this.remaining = 0;
  }

  /** Zeroes the counters. */
  reset(): void {
    this.writes = 0;
    this.gets = 0;
  }

  private check(key: string): void {
    this.writes++;
    if (this.fault === undefined || this.remaining <= 0) return;
    this.remaining--;
    const f = this.fault;
    if (this.remaining <= 0) this.fault = undefined;
    throw typeof f === 'string' ? new StorageError(f, key) : f;
  }

  revision(): number { return this.inner.revision(); }
  get(key: string): Promise<KeyValue | undefined> { this.gets++; return this.inner.get(key); }
  list(prefix: string, opts?: ListOptions): Promise<ListResult> { return this.inner.list(prefix, opts); }

  async create(key: string, value: string): Promise<KeyValue> {
    this.check(key);
    return this.inner.create(key, value);
  }

  async update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    this.check(key);
    return this.inner.update(key, value, expectedModRevision);
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ prev: KeyValue; revision: number }> {
    this.check(key);
    return this.inner.delete(key, expectedModRevision);
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError?: (err: StorageError) => void): StorageWatch {
    return this.inner.watch(prefix, fromRevision, onEvent, onError);
  }

  unavailable(): string | undefined { return this.inner.unavailable?.(); }

  compact(revision: number): Promise<void> { return this.inner.compact(revision); }
  close(): Promise<void> { return this.inner.close(); }
}
