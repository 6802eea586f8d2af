/**
 * ServiceAccount issuer discovery (KEP-1393): /.well-known/openid-configuration and /openid/v1/jwks,
 * which let anything outside the cluster verify ServiceAccount tokens. Readable by every
 * ServiceAccount (system:service-account-issuer-discovery is bound to system:serviceaccounts).
 */
import { exportJWK } from 'jose';
import type { ServiceAccountTokens } from './tokens.js';

/** The two documents, built once per issuer (the key does not change while the server runs). */
export async function issuerDiscovery(tokens: ServiceAccountTokens): Promise<{ configuration: string; jwks: string }> {
  const jwk = await exportJWK(tokens.publicKey);
  const configuration = JSON.stringify({
    issuer: tokens.issuer,
    jwks_uri: `${tokens.issuer}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  });
  const jwks = JSON.stringify({ keys: [{ use: 'sig', kty: jwk.kty, kid: tokens.kid, crv: jwk.crv, alg: 'ES256', x: jwk.x, y: jwk.y }] });
  return { configuration, jwks };
}

/** Content types kube-apiserver serves them with. */
export const OIDC_CONTENT_TYPES = { configuration: 'application/json', jwks: 'application/jwk-set+json' } as const;
