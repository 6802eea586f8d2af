/**
 * The API server machine's side of a cluster that spans machines: the serving certificate's extra
 * names, the default join token (k3s's node-token: made once, never expires, its K10 form kept in
 * `<stateDir>/pki/node-token`), the join routes on the API port and the join command `up` prints.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { R } from '../api/resources.js';
import type { UserInfo } from '../apiserver/auth/user.js';
import type { Pki } from '../apiserver/pki/pki.js';
import type { Client } from '../client/client.js';
import { ANNOTATION_SERVER_URL, IDENTITY_VALUE, LABEL_IDENTITY, LEASE_NAMESPACE, leaseLive } from '../controllers/kubernetesservice/reconcile.js';
import type { Storage } from '../storage/storage.js';
import type { SharedEtcd } from './store.js';
import { nthAddress } from './addons.js';
import { joinRoutes, type ClusterInfo } from './join/service.js';
import { formatK10, generateBootstrapToken, parseJoinCredentials } from './join/token.js';
import { BootstrapTokens } from './join/tokenstore.js';

/** Labels of the nodes of an API server's machine (k3s labels its servers the same way). */
export const CONTROL_PLANE_LABELS: Readonly<Record<string, string>> = { 'node-role.kubernetes.io/control-plane': 'true' };

/**
 * Label on the nodes of an API server's machine naming that API server (its Lease id): the DNS Pod,
 * which reads the API over that server's unix socket, is pinned to them.
 */
export const LABEL_APISERVER = 'clusterip.dev/apiserver';

/** Serving-certificate names beyond the fixed ones: the advertised address, and the first Service IP of a non-default Service CIDR. */
export function servingSans(advertiseAddress: string | undefined, serviceCIDR: string): string[] {
  const sans = [`IP:${nthAddress(serviceCIDR, 1)}`];
  if (advertiseAddress) sans.push(`IP:${advertiseAddress}`);
  return sans;
}

/** The URLs the live API servers of the cluster announce, `self` first. */
export async function serverURLs(client: Client, self: string): Promise<string[]> {
  const leases = await client.list<Lease>(R.leases, LEASE_NAMESPACE, { labelSelector: `${LABEL_IDENTITY}=${IDENTITY_VALUE}` });
  const now = new Date();
  const others = leases.items.filter((l) => leaseLive(l, now)).map((l) => l.metadata?.annotations?.[ANNOTATION_SERVER_URL]).filter((u): u is string => !!u && u !== self);
  return [self, ...new Set(others)];
}

/** What {@link setUpJoining} gives the cluster. */
export interface Joining {
  routes: (req: IncomingMessage, res: ServerResponse, path: string, user: UserInfo | undefined) => Promise<boolean>;
  /** `clusterip join --server <url> --token <K10…>`. */
  joinCommand: string;
  /** The default token (K10 form). */
  token: string;
}

/**
 * Makes sure the default join token exists (in the store, and in `<stateDir>/pki/node-token`) and
 * returns the join routes for the API server.
 */
export async function setUpJoining(o: { storage: Storage; pki: Pki; client: Client; stateDir: string; serverURL: string; cluster: ClusterInfo; sharedStore?: SharedEtcd; serviceAccountKey?: string }): Promise<Joining> {
  const tokens = new BootstrapTokens(o.storage);
  const file = join(o.stateDir, 'pki', 'node-token');
  let k10 = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  let creds = k10 ? (() => { try { return parseJoinCredentials(k10); } catch { return undefined; } })() : undefined;
  // A token file of another CA (the PKI was replaced) is useless: make a new one.
  if (creds && formatK10(o.pki.caCert, creds.token) !== k10) creds = undefined;
  if (!creds) {
    const token = generateBootstrapToken();
    k10 = formatK10(o.pki.caCert, token);
    creds = parseJoinCredentials(k10);
    writeFileSync(file, k10 + '\n', { mode: 0o600 });
  }
  // A store that does not know it (first start, or a new store): register it, never expiring.
  if (!(await tokens.get(creds.token.id))) {
    await tokens.add(creds.token, { usages: ['join-node'], description: 'default node-token (clusterip up)' });
  }
  return {
    routes: joinRoutes({ pki: o.pki, client: o.client, tokens, cluster: o.cluster, servers: () => serverURLs(o.client, o.serverURL), sharedStore: o.sharedStore, serviceAccountKey: o.serviceAccountKey }),
    joinCommand: `clusterip join --server ${o.serverURL} --token ${k10}`,
    token: k10,
  };
}
