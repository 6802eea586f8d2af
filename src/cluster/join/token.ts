/**
 * Join tokens, in the two forms Kubernetes installers use (pure; no I/O):
 *
 * - kubeadm's bootstrap token `<id>.<secret>` (`[a-z0-9]{6}.[a-z0-9]{16}`), the CA pinned
 *   separately with `--discovery-token-ca-cert-hash sha256:<hex>` — the SHA-256 of the CA
 *   certificate's DER SubjectPublicKeyInfo (src/certs/x509.ts `spkiHash`);
 * - k3s's secure token `K10<hex>::<id>.<secret>`, where `<hex>` is the SHA-256 of the CA bundle
 *   exactly as the server's `/cacerts` serves it, so one string both authenticates the node and pins
 *   the CA (k3s's `K10<ca-hash>::<credentials>` with a bootstrap token as the credentials, which is
 *   what `k3s token create` prints).
 *
 * The joining side checks the pin against the CA it downloads BEFORE it sends the secret, so a
 * token is never given to a server that is not the cluster's.
 */
import { createHash, randomInt } from 'node:crypto';
import { spkiHash } from '../../certs/x509.js';

/** A bootstrap token: `id` is public (it names the token), `secret` is the credential. */
export interface BootstrapToken {
  id: string;
  secret: string;
}

/** How the CA is pinned: k3s's hash of the CA bundle, or kubeadm's hash of the CA's public key. */
export type CaPin = { kind: 'bundle'; sha256: string } | { kind: 'spki'; sha256: string };

/** A parsed `--token` (+ `--discovery-token-ca-cert-hash`). */
export interface JoinCredentials {
  token: BootstrapToken;
  pin: CaPin;
}

/** Why a token was refused, with Kubernetes-installer wording. */
export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
  readonly code = 'INVALID_TOKEN_FORMAT';
}

const BOOTSTRAP = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const K10 = /^K10([0-9a-f]{64})::(.*)$/;
const SPKI = /^sha256:([0-9a-f]{64})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Parses `<id>.<secret>`; throws TokenFormatError. */
export function parseBootstrapToken(s: string): BootstrapToken {
  const m = BOOTSTRAP.exec(s.trim());
  if (!m) throw new TokenFormatError(`the bootstrap token ${JSON.stringify(redact(s))} was not of the form "${BOOTSTRAP.source}"`);
  return { id: m[1]!, secret: m[2]! };
}

/**
 * Parses `--token` and `--discovery-token-ca-cert-hash`. A bare bootstrap token needs the hash
 * (kubeadm refuses unpinned discovery unless told to skip verification; there is no such switch
 * here); a K10 token carries its own pin and takes no hash.
 */
export function parseJoinCredentials(token: string, caCertHash?: string): JoinCredentials {
  const t = token.trim();
  const k = K10.exec(t);
  if (k) {
    if (caCertHash) throw new TokenFormatError('a K10 token carries its own CA hash; --discovery-token-ca-cert-hash goes with a bare bootstrap token (<id>.<secret>)');
    return { token: parseBootstrapToken(k[2]!), pin: { kind: 'bundle', sha256: k[1]! } };
  }
  if (t.startsWith('K10')) throw new TokenFormatError('the token starts with K10 but is not K10<64 hex digits of the CA hash>::<id>.<secret>');
  const bt = parseBootstrapToken(t);
  if (!caCertHash) {
    throw new TokenFormatError('a bootstrap token alone does not pin the cluster CA: give --discovery-token-ca-cert-hash sha256:<hex> ' +
      '(clusterip token create prints it), or the K10 form of the token');
  }
  const h = SPKI.exec(caCertHash.trim());
  if (!h) throw new TokenFormatError(`--discovery-token-ca-cert-hash ${JSON.stringify(caCertHash)} is not of the form sha256:<64 hex digits>`);
  return { token: bt, pin: { kind: 'spki', sha256: h[1]! } };
}

/** The K10 form of `token` for the CA bundle `caPem` (as `/cacerts` serves it). */
export function formatK10(caPem: string, token: BootstrapToken): string {
  return `K10${bundleHash(caPem)}::${token.id}.${token.secret}`;
}

/** SHA-256 (hex) of the CA bundle's bytes — k3s's K10 hash. */
export function bundleHash(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}

/** Checks the downloaded CA bundle against the pin; returns undefined when it matches, else the hash seen. */
export function pinMismatch(pin: CaPin, caPem: string): string | undefined {
  const seen = pin.kind === 'bundle' ? bundleHash(caPem) : spkiHash(caPem).slice('sha256:'.length);
  return seen === pin.sha256 ? undefined : seen;
}

/** A fresh random bootstrap token. */
export function generateBootstrapToken(): BootstrapToken {
  const pick = (n: number): string => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

/** A token with its secret hidden, for messages. */
export function redact(s: string): string {
  const m = /^(.*?)([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(s.trim());
  return m ? `${m[1]}${m[2]}.****************` : s.length > 12 ? `${s.slice(0, 6)}…` : '…';
}
