#!/usr/bin/env node
/**
 * Generates schema.json: the protobuf field table (number → JSON name, type, repeated/map) of every
 * message reachable from the kinds clients may send us as application/vnd.kubernetes.protobuf.
 * Input: Kubernetes' generated.proto files (k8s.io/api and k8s.io/apimachinery), read from git
 * checkouts given as arguments:  node generate.mjs <k8s.io/api repo> <k8s.io/apimachinery repo>
 * The proto files are data (a wire-format description); only field tables are kept, no comments.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [apiRepo, machRepo] = process.argv.slice(2);
if (!apiRepo || !machRepo) { console.error('usage: generate.mjs <api repo> <apimachinery repo>'); process.exit(2); }
const show = (repo, path) => execFileSync('git', ['--git-dir', repo.endsWith('.git') || repo.endsWith('/repo') ? repo : join(repo, '.git'), 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 64 << 20 });

const files = [
  [apiRepo, 'core/v1/generated.proto'], [apiRepo, 'apps/v1/generated.proto'], [apiRepo, 'discovery/v1/generated.proto'],
  [apiRepo, 'coordination/v1/generated.proto'], [apiRepo, 'autoscaling/v1/generated.proto'],
  [apiRepo, 'autoscaling/v2/generated.proto'], [apiRepo, 'batch/v1/generated.proto'], [apiRepo, 'policy/v1/generated.proto'], [apiRepo, 'networking/v1/generated.proto'],
  [apiRepo, 'rbac/v1/generated.proto'], [apiRepo, 'authentication/v1/generated.proto'], [apiRepo, 'authorization/v1/generated.proto'],
  [machRepo, 'pkg/apis/meta/v1/generated.proto'], [machRepo, 'pkg/runtime/generated.proto'],
  [machRepo, 'pkg/util/intstr/generated.proto'], [machRepo, 'pkg/api/resource/generated.proto'],
  [machRepo, 'pkg/runtime/schema/generated.proto'],
];

const messages = {};
for (const [repo, path] of files) {
  const text = show(repo, path).replace(/\/\/.*$/gm, '');
  const pkg = /package\s+([\w.]+);/.exec(text)[1];
  const re = /message\s+(\w+)\s*\{([^}]*)\}/g;
  let m;
  while ((m = re.exec(text))) {
    const fields = [];
    for (const line of m[2].split(';')) {
      const f = /^\s*(optional|repeated)?\s*(map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)/.exec(line);
      if (!f) continue;
      const qualify = (t) => /^(string|bytes|bool|int32|int64|uint32|uint64|sint32|sint64|double|float|fixed32|fixed64)$/.test(t) ? t
        : t.startsWith('.') ? t.slice(1) : t.includes('.') ? t : `${pkg}.${t}`;
      if (f[3]) fields.push([Number(f[6]), f[5], 'map', qualify(f[3]), qualify(f[4])]);
      else fields.push([Number(f[6]), f[5], f[1] === 'repeated' ? 'repeated' : 'single', qualify(f[2])]);
    }
    messages[`${pkg}.${m[1]}`] = fields;
  }
}

const roots = [
  ...['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'Event', 'ConfigMap', 'Binding', 'Secret', 'ServiceAccount'].map((k) => `k8s.io.api.core.v1.${k}`),
  ...['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].map((k) => `k8s.io.api.apps.v1.${k}`),
  'k8s.io.api.batch.v1.Job', 'k8s.io.api.batch.v1.CronJob', 'k8s.io.api.policy.v1.PodDisruptionBudget', 'k8s.io.api.policy.v1.Eviction', 'k8s.io.api.networking.v1.NetworkPolicy',
  'k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler', 'k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler',
  'k8s.io.api.discovery.v1.EndpointSlice', 'k8s.io.api.coordination.v1.Lease', 'k8s.io.api.autoscaling.v1.Scale',
  ...['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].map((k) => `k8s.io.api.rbac.v1.${k}`),
  ...['TokenRequest', 'TokenReview', 'SelfSubjectReview'].map((k) => `k8s.io.api.authentication.v1.${k}`),
  ...['SubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'LocalSubjectAccessReview'].map((k) => `k8s.io.api.authorization.v1.${k}`),
  'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'k8s.io.apimachinery.pkg.runtime.Unknown',
];
const out = {};
const visit = (name) => {
  if (out[name] || !messages[name]) return;
  out[name] = messages[name];
  for (const f of messages[name]) { visit(f[3]); if (f[4]) visit(f[4]); }
};
roots.forEach(visit);
const missing = roots.filter((r) => !out[r]);
if (missing.length) { console.error('missing roots', missing); process.exit(1); }
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'schema.json'), JSON.stringify(out) + '\n');
console.log(`${Object.keys(out).length} messages`);
