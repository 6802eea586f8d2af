/**
 * `clusterip token create|list|delete`: the cluster's bootstrap tokens (kubeadm's `kubeadm token`,
 * k3s's `k3s token`), managed through the running API server's unix socket in the state directory
 * (root on the API server's machine; the socket's file permissions are the credential).
 */
import { HttpClient } from '../client/http.js';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { HELP_FLAG, NAME_FLAG, resolveTarget, STATE_DIR_FLAG } from './target.js';
import { daemonRunning, StateError } from '../cluster/state.js';

export const TOKEN_FLAGS: Record<string, FlagSpec> = {
  ttl: { type: 'string', description: 'create: how long the token is valid (Go duration: 30m, 24h, 0 = never expires)', default: '24h' },
  description: { type: 'string', description: 'create: a note shown by list' },
  usages: { type: 'string', description: 'create: join-node, or join-node,join-server (also lets another API server join the cluster)', default: 'join-node' },
  'print-join-command': { type: 'boolean', description: 'create: print the whole clusterip join command' },
  name: NAME_FLAG,
  'state-dir': STATE_DIR_FLAG,
  help: HELP_FLAG,
};

const USAGE = `clusterip token create|list|delete [flags]

  create           make a new bootstrap token and print it (K10 form; --print-join-command for the command)
  list             show the cluster's tokens (ids, usages, expiry; never the secrets)
  delete <id>      remove a token: machines can no longer join with it (joined nodes are not affected)`;

/** A Go duration (`1h30m`, `45s`, `0`) in seconds. */
export function parseDuration(s: string): number {
  if (s.trim() === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    consumed += m[0].length;
  }
  if (consumed !== s.trim().length || consumed === 0) throw new UsageError(`--ttl ${JSON.stringify(s)} is not a duration such as 30m, 24h or 0`);
  return Math.round(total);
}

/** `clusterip token`. */
export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, TOKEN_FLAGS, { command: 'token', positionals: true });
  const [verb, ...args] = positional;
  if (flags.help || !verb) { console.log(`${USAGE}\n\n${flagHelp(TOKEN_FLAGS)}`); return flags.help ? 0 : 2; }
  const t = resolveTarget(flags);
  const rec = t.record;
  if (!rec || !daemonRunning(rec) || !rec.unixSocket) {
    throw new StateError('CLUSTER_NOT_RUNNING', `no running API server for cluster "${t.name}" here (state dir ${t.stateDir}); tokens are made on an API server's machine, where 'clusterip up' runs`);
  }
  const api = new HttpClient({ socketPath: rec.unixSocket });
  try {
    if (verb === 'create') {
      if (args.length) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`);
      const usages = String(flags.usages).split(',').map((u) => u.trim()).filter(Boolean);
      const r = await api.request<{ token: string; bootstrapToken: string; discoveryTokenCaCertHash: string; expires: string | null }>('POST', '/v1-clusterip/tokens', {
        ttlSeconds: parseDuration(String(flags.ttl)), usages, ...(flags.description ? { description: flags.description } : {}),
      });
      if (flags['print-join-command']) {
        const server = rec.joinCommand ? /--server (\S+)/.exec(rec.joinCommand)?.[1] : undefined;
        console.log(`clusterip join --server ${server ?? '<https://this-machine:port>'} --token ${r.token}`);
      } else {
        console.log(r.token);
      }
      return 0;
    }
    if (verb === 'list') {
      const r = await api.request<{ items: { id: string; usages: string[]; expires?: string; description?: string }[] }>('GET', '/v1-clusterip/tokens');
      const now = Date.now();
      const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION'], ...r.items.map((i) => [
        `${i.id}.<secret>`,
        !i.expires ? '<forever>' : Date.parse(i.expires) <= now ? '<expired>' : `${Math.ceil((Date.parse(i.expires) - now) / 3_600_000)}h`,
        i.expires ?? '<never>', i.usages.join(','), i.description ?? '<none>',
      ])];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
      for (const row of rows) console.log(row.map((v, c) => v.padEnd(widths[c]! + 3)).join('').trimEnd());
      return 0;
    }
    if (verb === 'delete') {
      if (args.length !== 1) throw new UsageError('clusterip token delete <id>');
      const id = args[0]!.split('.')[0]!.replace(/^K10[0-9a-f]*::/, '');
      await api.request('DELETE', `/v1-clusterip/tokens/${encodeURIComponent(id)}`);
      console.log(`bootstrap token "${id}" deleted`);
      return 0;
    }
    throw new UsageError(`unknown token command ${JSON.stringify(verb)}\n\n${USAGE}`);
  } finally {
    api.close();
  }
}
