/**
 * In-memory Storage backend for tests and throwaway clusters. Same semantics as the SQLite backend
 * (one revision counter, CAS writes, bounded watch history) — both run src/storage/testing/conformance.ts.
 */
import { EventLog } from './eventlog.js';
import {
  StorageError, type KeyValue, type ListOptions, type ListResult, type Storage, type StorageEvent, type StorageWatch,
} from './storage.js';

export interface MemoryStorageOptions {
  /** Events retained for watches from an older revision. Default 10000. */
  historySize?: number;
}

export class MemoryStorage implements Storage {
  private readonly kvs = new Map<string, KeyValue>();
  private rev = 0;
  private readonly log: EventLog;
  private closed = false;

  constructor(opts: MemoryStorageOptions = {}) {
    this.log = new EventLog(0, opts.historySize);
  }

  revision(): number {
    return this.rev;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.check(key);
    return this.kvs.get(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check(prefix);
    // Only the current state is kept: an older snapshot is gone, as a compacted revision in etcd.
    if (opts.revision !== undefined && opts.revision !== this.rev) {
      throw new StorageError('Compacted', prefix, `required revision ${opts.revision} is not the current revision ${this.rev}`);
    }
    const keys = [...this.kvs.keys()].filter((k) => k.startsWith(prefix) && (opts.continueAfter === undefined || k > opts.continueAfter)).sort();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : keys.length;
    const page = keys.slice(0, limit);
    const items = page.map((k) => this.kvs.get(k)!);
    const remaining = keys.length - page.length;
    return remaining > 0
      ? { items, revision: this.rev, continueAfter: page[page.length - 1], remaining }
      : { items, revision: this.rev };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.check(key);
    if (this.kvs.has(key)) throw new StorageError('KeyExists', key);
    const rev = ++this.rev;
    const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
    this.kvs.set(key, kv);
    this.emit({ type: 'put', kv, revision: rev });
    return kv;
  }

  async update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    this.check(key);
    const prev = this.precondition(key, expectedModRevision);
    const rev = ++this.rev;
    const kv: KeyValue = { key, value, createRevision: prev.createRevision, modRevision: rev };
    this.kvs.set(key, kv);
    this.emit({ type: 'put', kv, prev, revision: rev });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ prev: KeyValue; revision: number }> {
    this.check(key);
    const prev = this.precondition(key, expectedModRevision);
    const rev = ++this.rev;
    this.kvs.delete(key);
    this.emit({ type: 'delete', kv: { ...prev, modRevision: rev }, prev, revision: rev });
    return { prev, revision: rev };
  }

  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError?: (err: StorageError) => void): StorageWatch {
    this.check(prefix);
    return this.log.watch(prefix, fromRevision, onEvent, onError);
  }

  async compact(revision: number): Promise<void> {
    this.log.compact(Math.min(revision, this.rev));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.log.close();
  }

  private precondition(key: string, expected?: number): KeyValue {
    const prev = this.kvs.get(key);
    if (!prev) throw new StorageError('KeyNotFound', key);
    if (expected !== undefined && prev.modRevision !== expected) {
      throw new StorageError('Conflict', key, `${key}: expected revision ${expected}, found ${prev.modRevision}`);
    }
    return prev;
  }

  private emit(ev: StorageEvent): void {
    this.log.append(ev);
  }

  private check(key: string): void {
    if (this.closed) throw new StorageError('Closed', key, 'storage is closed');
  }
}
