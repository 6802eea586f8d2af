/**
 * The DNS process's command line (`node dist/dns/main.js ...`), parsed with Node's own
 * `util.parseArgs` (strict) and validated up front, so a typo or a bad value is a clear error
 * (exit code 2) instead of a flag silently ignored or `--ttl abc` becoming NaN.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

export const DNS_USAGE = `usage: main.js (--api-socket <path> | --kubeconfig <file>) [--listen 0.0.0.0:53] [--zone cluster.local]
               [--ttl 30] [--upstream ip[:port]] [--metrics-listen ip:port]

  --api-socket <path>   the API server's unix socket (what the clusterip/dns image uses)
  --kubeconfig <file>   or a kubeconfig (its current context)
  --listen <ip:port>    UDP and TCP address to serve on (default 0.0.0.0:53; port 0 picks one)
  --zone <domain>       the cluster domain (default cluster.local)
  --ttl <seconds>       TTL of answers, 0..2147483647 (default 30)
  --upstream <ip[:port]> resolver for names outside the zone (default: answer REFUSED)
  --metrics-listen <ip:port> serve Prometheus metrics (CoreDNS' names) at http://ip:port/metrics`;

/** What the DNS process runs with. */
export interface DnsOptions {
  apiSocket?: string;
  kubeconfig?: string;
  listen: { address: string; port: number };
  zone: string;
  ttl: number;
  upstream?: string;
  /** Where to serve /metrics (plain HTTP, as CoreDNS' prometheus plugin); none when absent. */
  metricsListen?: { address: string; port: number };
  help: boolean;
}

/** A bad command line; the message says what is wrong. */
export class DnsUsageError extends Error {
  override readonly name = 'DnsUsageError';
  readonly code = 'INVALID_USAGE';
}

function hostPort(flag: string, value: string, defaultPort?: number): { address: string; port: number } {
  // "ip:port", "[v6]:port", or (with a default port) a bare ip.
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value) ?? (isIP(value) === 6 ? [value, value, undefined] : null);
  const address = m?.[1];
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!address || !isIP(address) || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DnsUsageError(`--${flag}: ${JSON.stringify(value)} is not an ip:port${defaultPort !== undefined ? ' (or an ip)' : ''}`);
  }
  return { address, port };
}

/** Parses and validates the DNS process's arguments. Throws DnsUsageError. */
export function parseDnsOptions(argv: string[]): DnsOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        'api-socket': { type: 'string' }, kubeconfig: { type: 'string' }, listen: { type: 'string' }, zone: { type: 'string' },
        ttl: { type: 'string' }, upstream: { type: 'string' }, 'metrics-listen': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new DnsUsageError((err as Error).message.split('\n')[0]!);
  }
  if (values.help) return { listen: { address: '0.0.0.0', port: 53 }, zone: 'cluster.local', ttl: 30, help: true };
  const apiSocket = values['api-socket'] as string | undefined;
  const kubeconfig = values.kubeconfig as string | undefined;
  if (!apiSocket === !kubeconfig) throw new DnsUsageError('give exactly one of --api-socket or --kubeconfig');
  const ttlText = (values.ttl as string | undefined) ?? '30';
  const ttl = Number(ttlText);
  if (!/^\d+$/.test(ttlText) || !(ttl <= 2147483647)) throw new DnsUsageError(`--ttl: ${JSON.stringify(ttlText)} is not a whole number of seconds between 0 and 2147483647`);
  const zone = ((values.zone as string | undefined) ?? 'cluster.local').replace(/\.$/, '');
  if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(zone)) throw new DnsUsageError(`--zone: ${JSON.stringify(zone)} is not a domain name`);
  const upstream = values.upstream as string | undefined;
  if (upstream !== undefined) hostPort('upstream', upstream, 53);
  const metricsListen = values['metrics-listen'] as string | undefined;
  return {
    apiSocket, kubeconfig, zone, ttl, upstream, help: false,
    ...(metricsListen !== undefined ? { metricsListen: hostPort('metrics-listen', metricsListen) } : {}),
    listen: hostPort('listen', (values.listen as string | undefined) ?? '0.0.0.0:53'),
  };
}
