/** Typed errors of the controllers. */

/**
 * The informer cache is older than a write this controller made: acting on it could duplicate or
 * undo that write. The key is retried (with backoff) until the cache has caught up.
 */
export class StaleCacheError extends Error {
  readonly code = 'STALE_CACHE';
  constructor(readonly key: string) {
    super(`informer cache for ${key} is older than this controller's last write`);
    this.name = 'StaleCacheError';
  }
}
