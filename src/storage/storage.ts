/**
 * The storage contract the API server's registry is built on. It is deliberately etcd-shaped so an
 * etcd backend can be added later without touching the registry:
 *
 * - one revision counter for the whole store, bumped by every create, update and delete; an object's
 *   `resourceVersion` is the revision of its last write (its mod revision);
 * - create-if-absent, update/delete with an expected mod revision (a compare-and-swap);
 * - list by key prefix with a limit and a continue key, answered together with the revision it saw;
 * - watch(prefix, fromRevision) delivering every event after that revision, in revision order, from a
 *   bounded history; asking for a revision older than the history fails with `StorageError('Compacted')`.
 *
 * Values are opaque strings (the registry stores JSON). Events are delivered synchronously, before the
 * write's promise settles, so a caller that awaits a write and then reads a cache fed by `watch` sees
 * its own write. (etcd delivers through its watch stream; its writes settle once that stream has
 * delivered them, and a failed precondition settles once the newer value has arrived, so a retry
 * reads fresh state.)
 */

/** One stored key. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Revision of the write that created the key (etcd's create_revision). */
  readonly createRevision: number;
  /** Revision of the last write to the key (etcd's mod_revision) — the object's resourceVersion. */
  readonly modRevision: number;
}

/** A change as a watcher sees it. For `delete`, `kv` is the deleted value with `modRevision` = the delete's revision. */
export interface StorageEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  /** The value before this event (absent for a create). */
  readonly prev?: KeyValue;
  /** The revision this event happened at. */
  readonly revision: number;
}

export interface ListResult {
  readonly items: KeyValue[];
  /** The store revision the list was taken at. */
  readonly revision: number;
  /** Set when more keys follow: pass it back as `continueAfter`. */
  readonly continueAfter?: string;
  /** How many keys with the prefix follow after this page (when known). */
  readonly remaining?: number;
}

export interface ListOptions {
  /** At most this many items (0/undefined = all). */
  limit?: number;
  /** Start strictly after this key (from a previous page's `continueAfter`). */
  continueAfter?: string;
  /**
   * Read the store as of this revision (a previous page's `revision`), so that all pages of a list are
   * one snapshot. A backend that no longer has that revision throws StorageError('Compacted'): etcd
   * keeps history until compaction; memory and SQLite keep only the current state, so they serve it
   * only while nothing has been written since.
   */
  revision?: number;
}

/** A running storage watch. */
export interface StorageWatch {
  stop(): void;
}

/**
 * Failure kinds of the storage layer; the registry maps them to API errors. `Unavailable`: the
 * backend cannot be reached or cannot commit now (etcd down, no leader); a write that failed so may
 * or may not have been applied — the API answers 503.
 */
export type StorageErrorCode = 'KeyExists' | 'KeyNotFound' | 'Conflict' | 'Compacted' | 'Closed' | 'Unavailable';

/** The one error type storage backends throw. `code` is stable. */
export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode, readonly key: string, message?: string) {
    super(message ?? `${code}: ${key}`);
    this.name = 'StorageError';
  }
}

/** True when `e` is a StorageError with the given code. */
export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

export interface Storage {
  /**
   * The current revision as this process has seen it: every change up to it has been delivered to
   * watchers (for etcd, the last revision its watch delivered; another API server's newer write
   * counts once it arrived).
   */
  revision(): number;
  get(key: string): Promise<KeyValue | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Creates `key`; throws StorageError('KeyExists') if present. Returns the new KeyValue. */
  create(key: string, value: string): Promise<KeyValue>;
  /**
   * Replaces `key`. With `expectedModRevision`, fails with StorageError('Conflict') unless the stored
   * mod revision equals it. Throws StorageError('KeyNotFound') when absent.
   */
  update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Deletes `key` (same precondition rules as update). Returns the deleted value and the delete's revision. */
  delete(key: string, expectedModRevision?: number): Promise<{ prev: KeyValue; revision: number }>;
  /**
   * Calls `onEvent` for every change under `prefix` with revision > `fromRevision`, in order: first the
   * retained history, then live changes. Throws StorageError('Compacted') when `fromRevision` is older
   * than the retained history.
   *
   * `onError` is called (at most once, and then the watch is over) when the backend lost changes it
   * cannot replay — etcd: the store was compacted past this process's etcd watch while it was
   * disconnected. The caller must re-list. Memory and SQLite never end a watch on their own.
   */
  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError?: (err: StorageError) => void): StorageWatch;
  /**
   * Why the backend cannot serve right now, or undefined when it can. Optional: memory and SQLite
   * are always available; etcd is not while its watch is disconnected (reads from a cache it feeds
   * could be stale), and the API answers 503 with this reason.
   */
  unavailable?(): string | undefined;
  /** Forgets history up to and including `revision`: later watches from <= revision-1 fail with Compacted. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
