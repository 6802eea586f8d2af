/**
 * Typed node-agent errors. Each failure has a stable `code`; the agent turns them into Pod status
 * (container waiting reasons) and Events, and the stream provider turns them into ApiErrors.
 */

/** Stable codes for node-agent failures. */
export type NodeErrorCode =
  | 'CommandFailed' // a kernel/tool command (ip, nsenter...) exited non-zero
  | 'SandboxFailed' // the Pod sandbox (netns, veth, IP, /etc files, holder) could not be built
  | 'IpamExhausted' // no free address in the node's Pod CIDR
  | 'ImageNotFound' // the image has no catalog entry
  | 'ContainerNotFound'
  | 'PodNotFound';

/** Base class of every node-agent error. */
export class NodeError extends Error {
  constructor(readonly code: NodeErrorCode, message: string) {
    super(message);
    this.name = 'NodeError';
  }
}
