/**
 * Typed proxy errors, each with a stable `code` (the proxy is not an API handler, so these are not
 * ApiErrors; the CLI prints `code: message`).
 *
 * Codes: KernelCommandFailed (nft / iptables-restore / conntrack exited non-zero or could not
 * start), InvalidProxyOptions (startProxy options failed validation), ProxyStopped (used after stop).
 */
export class ProxyError extends Error {
  constructor(readonly code: 'KernelCommandFailed' | 'InvalidProxyOptions' | 'ProxyStopped', message: string) {
    super(message);
    this.name = 'ProxyError';
  }
}
