/**
 * Typed proxy errors, each with a stable `code` (the proxy is not an API handler, so these are not
 * ApiErrors; the CLI prints `code: message`).
 *
 * Codes: KERNEL_COMMAND_FAILED (nft / iptables-restore / conntrack exited non-zero or could not
 * start), INVALID_PROXY_OPTIONS (startProxy options failed validation), PROXY_STOPPED (used after stop).
 */
export class ProxyError extends Error {
  constructor(readonly code: 'KERNEL_COMMAND_FAILED' | 'INVALID_PROXY_OPTIONS' | 'PROXY_STOPPED', message: string) {
    super(message);
    this.name = 'ProxyError';
  }
}
