/**
 * Errors of explain and diagnose, each with a stable code (the CLI maps them to exit codes and
 * one-line messages; the web view to HTTP answers).
 */
export type InspectErrorCode =
  /** `kind/name` is malformed or names a kind we do not explain. */
  | 'BadTarget'
  /** The object does not exist; the message names the nearest matches. */
  | 'NotFound'
  /** The cluster is not running (no record, or its daemon is gone). */
  | 'ClusterNotRunning';

export class InspectError extends Error {
  constructor(readonly code: InspectErrorCode, message: string, readonly nearest: string[] = []) {
    super(message);
    this.name = 'InspectError';
  }
}
