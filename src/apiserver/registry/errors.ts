/**
 * The one place a failure inside the registry becomes the ApiError a client sees (the role of
 * Kubernetes' storeerr.Interpret*Error). Every public verb of the Registry runs through
 * `interpret`, so no storage failure reaches a client as an unmapped 500:
 *
 *   storage code   create                 update / patch / subresources / delete   reads
 *   KeyExists      409 AlreadyExists      409 Conflict                              409 Conflict
 *   KeyNotFound    404 NotFound           404 NotFound                              404 NotFound
 *   Conflict       409 Conflict           409 Conflict (after the retries)          409 Conflict
 *   Compacted      410 Expired            410 Expired                               410 Expired
 *   Unavailable    503 ServiceUnavailable with the backend's reason (etcd down, no leader)
 *   Closed (or any other code)  503 ServiceUnavailable (retryAfterSeconds 1)
 *
 * Kubernetes answers an unreachable etcd with 500 ServerTimeout; a closed or unreachable store is
 * 503 here so that every storage failure has a non-500 code (the wording is Kubernetes' own).
 * Anything that is neither an ApiError nor a StorageError is a bug or an unknown backend failure:
 * 500 InternalError with its message and no stack, as Kubernetes does.
 */
import { ApiError, alreadyExists, conflict, gone, internalError, notFound, serviceUnavailable } from '../../api/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import { isStorageError } from '../../storage/storage.js';

/** The operation a failure happened in; it decides the wording where Kubernetes' does. */
export type Operation = 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete';

/** Maps any failure of `op` on `info`/`name` to the ApiError the client sees. */
export function interpret(e: unknown, op: Operation, info: Pick<ResourceInfo, 'group' | 'plural'>, name: string): ApiError {
  if (e instanceof ApiError) return e;
  if (isStorageError(e)) {
    switch (e.code) {
      case 'KeyExists': return op === 'create' ? alreadyExists(info, name) : conflict(info, name);
      case 'KeyNotFound': return notFound(info, name);
      case 'Conflict': return conflict(info, name);
      case 'Compacted': return gone('too old resource version');
      // The backend cannot serve now (etcd down, no leader): its reason says why.
      case 'Unavailable': return serviceUnavailable(e.message);
      // Closed, and any code a backend adds later for "cannot serve now".
      case 'Closed': default: {
        const what = info.group ? `${info.plural}.${info.group}` : info.plural;
        return serviceUnavailable(`The ${op} operation against ${what} could not be completed at this time, please try again.`);
      }
    }
  }
  return internalError(e instanceof Error ? e.message : String(e));
}
