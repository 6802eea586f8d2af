/**
 * Typed node-agent errors. Each failure has a stable `code` (UPPER_SNAKE, as every error code in
 * the project); the agent turns them into Pod status
 * (container waiting reasons) and Events, and the stream provider turns them into ApiErrors.
 */

/** Stable codes for node-agent failures. */
export type NodeErrorCode =
  | 'CONTAINER_START_FAILED' // a container's process could not be started (a failed tool command is a CommandError, src/sys)
  | 'SANDBOX_FAILED' // the Pod sandbox (netns, veth, IP, /etc files, holder) could not be built
  | 'IPAM_EXHAUSTED' // no free address in the node's Pod CIDR
  | 'IMAGE_NOT_FOUND' // the image has no catalog entry
  | 'IMAGE_PULL_FAILED' // a registry pull failed (the message says why: not found, unauthorized, digest)
  | 'IMAGE_NEVER_PULL' // imagePullPolicy Never and the image is not in the store
  | 'RUNTIME_UNAVAILABLE' // the OCI runtime's programs (runc, conmon) are missing
  | 'CONTAINER_NOT_FOUND'
  | 'POD_NOT_FOUND';

/** Base class of every node-agent error. */
export class NodeError extends Error {
  constructor(readonly code: NodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeError';
  }
}
