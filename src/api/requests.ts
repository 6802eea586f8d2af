/**
 * The vocabulary of API requests shared by every side of the API: the options each verb takes
 * (list, watch, write, delete, patch types) and the events a watch delivers. The clients
 * (src/client) send them; the API server (src/apiserver) parses them from the wire and serves them.
 * Plain data, no behaviour.
 */
import type { KubeObject } from './object.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Deliver events after this revision. Omitted: start from "now". */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /**
   * The watch-list protocol (sendInitialEvents=true, resourceVersionMatch=NotOlderThan): ADDED for
   * every current object, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"` (only sent
   * when bookmarks are allowed), then changes.
   */
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  /** For ERROR events, a Status object. */
  object: T;
}

/** A running watch. `done` settles when the watch ends (stopped, timed out, server closed, or error). */
export interface WatchHandle {
  stop(): void;
  /** Resolves with no value on a normal end; rejects with an ApiError (e.g. 410 Gone) on failure. */
  readonly done: Promise<void>;
}

export interface WriteOptions {
  /** 'All' = validate and default but do not persist. */
  dryRun?: 'All';
  fieldManager?: string;
  /** Strict | Warn | Ignore (unknown-field handling). */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export type PatchType = 'application/merge-patch+json' | 'application/json-patch+json' | 'application/strategic-merge-patch+json' | 'application/apply-patch+yaml';

/** Every patch content type the API accepts. */
export const PATCH_TYPES: readonly PatchType[] = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'application/strategic-merge-patch+json'];

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Subresources written through the generic verbs (status, scale, binding, finalize, token, ephemeralcontainers). */
export type WritableSubresource = 'status' | 'scale' | 'binding' | 'finalize' | 'token' | 'ephemeralcontainers';

/**
 * Subresources a POST to a named object creates: pods/NAME/binding (a Binding), pods/NAME/eviction (an
 * Eviction), and serviceaccounts/NAME/token (a TokenRequest, answered with the token; nothing is stored).
 */
export type CreateSubresource = 'binding' | 'eviction' | 'token';

/**
 * Subresources a PUT may name: status, scale (an autoscaling/v1 Scale), finalize (namespaces),
 * ephemeralcontainers (pods: a Pod of which only spec.ephemeralContainers is taken).
 */
export type UpdateSubresource = 'status' | 'scale' | 'finalize' | 'ephemeralcontainers';

/** Subresources a GET may name (ephemeralcontainers answers the Pod, as kube-apiserver does). */
export type GetSubresource = 'status' | 'scale' | 'ephemeralcontainers';

/** Subresources a PATCH may name. */
export type PatchSubresource = 'status' | 'scale' | 'ephemeralcontainers';
