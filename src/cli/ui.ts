/**
 * `clusterip ui [--open] [--kubeconfig FILE] [--context CTX] [--name N] [--state-dir DIR]`: prints
 * (or opens) the URL of the cluster's web view with a one-time login token. The token is minted by
 * the API server for the kubeconfig user this command authenticates as (its client certificate or
 * token, over HTTPS like kubectl), so the browser session is that user and nothing more.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { findRunningCluster } from './clusterapi.js';
import { HELP_FLAG, NAME_FLAG, STATE_DIR_FLAG } from './target.js';
import { readKubeconfig, type KubeconfigConnection } from '../client/kubeconfig.js';

export const UI_FLAGS: Record<string, FlagSpec> = {
  open: { type: 'boolean', description: 'open the URL in the desktop browser (xdg-open) as well as printing it' },
  kubeconfig: { type: 'string', description: "kubeconfig whose user signs in (default: the one the cluster wrote, with the cluster's context)" },
  context: { type: 'string', description: 'context in --kubeconfig (default: its current context)' },
  name: NAME_FLAG, 'state-dir': STATE_DIR_FLAG, help: HELP_FLAG,
};

const HELP = `clusterip ui [flags]

Prints the address of the cluster's web view — topology, a Service's packet path, trace, flows and
diagnose, live — with a one-time login token (valid 5 minutes, for one sign-in). The session it
opens is the kubeconfig user's: it can read what that user can read, nothing more. The page is
served by the API server itself (https://127.0.0.1:<port>/ui/); it needs no network access.

${flagHelp(UI_FLAGS)}`;

interface LoginToken { user: string; token: string; expiresAt: string; path: string }

/** Asks the API server (as the kubeconfig user) for a login token. */
export function mintLoginToken(conn: KubeconfigConnection): Promise<LoginToken> {
  return new Promise((resolve, reject) => {
    const url = new URL('/ui/api/login-tokens', conn.server);
    const req = request(url, {
      method: 'POST', ca: conn.ca, cert: conn.cert, key: conn.key,
      headers: { Accept: 'application/json', 'Content-Length': 0, ...(conn.token ? { Authorization: `Bearer ${conn.token}` } : {}) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        let doc: { message?: string } & Partial<LoginToken>;
        try { doc = JSON.parse(body) as typeof doc; } catch { reject(new Error(`the API server answered ${res.statusCode}: ${body.trim().slice(0, 200)}`)); return; }
        if (res.statusCode !== 201 || !doc.token) { reject(new Error(`the API server refused a login token (${res.statusCode}): ${doc.message ?? body}`)); return; }
        resolve(doc as LoginToken);
      });
    });
    req.on('error', (e) => reject(new Error(`cannot reach the API server at ${conn.server}: ${e.message}`)));
    req.end();
  });
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, UI_FLAGS, { command: 'ui' });
  if (flags.help) { console.log(HELP); return 0; }
  const rec = findRunningCluster((flags.name as string | undefined) ?? 'default', flags['state-dir'] as string | undefined);
  const kubeconfig = (flags.kubeconfig as string | undefined) ?? rec.kubeconfig;
  const context = (flags.context as string | undefined) ?? (flags.kubeconfig ? undefined : rec.context);
  const conn = await readKubeconfig(kubeconfig, context);
  const t = await mintLoginToken(conn);
  const url = new URL(t.path, conn.server).href;
  console.log(url);
  console.error(`signs in as ${t.user}; the link works once, until ${t.expiresAt}.`);
  console.error(`The certificate is the cluster's own: accept it in the browser, or trust its CA (${join(rec.unixSocket, '..', 'pki', 'ca.crt')}).`);
  if (flags.open) {
    const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', (e) => console.error(`could not open a browser (${e.message}); open the URL above`));
    child.unref();
  }
  return 0;
}
