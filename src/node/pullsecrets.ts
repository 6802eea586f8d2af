/**
 * A Pod's imagePullSecrets as docker config JSONs, read through the Client the way the kubelet
 * reads them: type `kubernetes.io/dockerconfigjson` (key `.dockerconfigjson`, `{"auths": …}`) and
 * the legacy `kubernetes.io/dockercfg` (key `.dockercfg`, the auths map itself). A Secret that
 * cannot be read is reported by name (the kubelet's FailedToRetrieveImagePullSecret) and the pull
 * goes on without it.
 */
import type { Pod, Secret } from 'kubernetes-types/core/v1.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import type { DockerConfig } from '../images/auth.js';

/** The docker config of one Secret, or undefined when it is not a docker config Secret. */
export function dockerConfigOf(s: Secret): DockerConfig | undefined {
  const data = s.data ?? {};
  const decode = (k: string): unknown => JSON.parse(Buffer.from(data[k] ?? '', 'base64').toString('utf8'));
  try {
    if (s.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson']) return decode('.dockerconfigjson') as DockerConfig;
    if (s.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) return { auths: decode('.dockercfg') as DockerConfig['auths'] };
  } catch { /* malformed: not usable */ }
  return undefined;
}

/** The docker configs of `pod`'s imagePullSecrets, and the names that could not be read. */
export async function pullSecretConfigs(client: Client, pod: Pod): Promise<{ configs: DockerConfig[]; missing: string[] }> {
  const configs: DockerConfig[] = [];
  const missing: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    try {
      const cfg = dockerConfigOf(await client.get<Secret>(R.secrets, pod.metadata?.namespace, ref.name));
      if (cfg) configs.push(cfg); else missing.push(ref.name);
    } catch {
      missing.push(ref.name);
    }
  }
  return { configs, missing };
}
