/**
 * ServiceAccounts (their token subresource: TokenRequest, answered by src/apiserver/auth and never
 * stored) and Secrets (`data` must be base64, `stringData` is merged into `data` and dropped on
 * every write, as the decoder does in Kubernetes).
 */
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { notFound } from '../../../api/errors.js';
import { fieldsOf } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { TokenRequests } from '../../auth/tokenrequest.js';
import { decodeSecret } from '../../semantics/secret.js';
import { genericStrategy, type Strategy } from '../strategy.js';

/** `tokenRequests` absent: serviceaccounts/NAME/token is 404 (an API core without a signing key). */
export function serviceAccountStrategy(info: ResourceInfo, tokenRequests: TokenRequests | undefined): Strategy {
  return {
    ...genericStrategy(info),
    async createSubresource(sub, cur, input, { dryRun }) {
      const sa = cur as ServiceAccount;
      if (sub !== 'token' || !tokenRequests) throw notFound(info, sa.metadata?.name ?? '');
      return tokenRequests.create(sa.metadata?.namespace ?? '', sa.metadata?.name ?? '', sa, input, { dryRun });
    },
  };
}

export function secretStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  return {
    ...base,
    selectableFields: [...base.selectableFields, 'type'],
    prepareForCreate(obj) {
      decodeSecret(fieldsOf(obj));
    },
    prepareForUpdate(next, old) {
      base.prepareForUpdate(next, old);
      decodeSecret(fieldsOf(next));
    },
  };
}
