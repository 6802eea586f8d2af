import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import { invalid } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { applyDefaults } from './defaults.js';
import { validateObject } from './validation.js';

type Info = typeof R[keyof typeof R];

/** The Status message the API server would return for `obj` (defaulted first, as the registry does). */
function message(info: Info, obj: unknown, old?: unknown): string {
  const o = applyDefaults(info, structuredClone(obj) as KubeObject);
  const prev = old ? applyDefaults(info, structuredClone(old) as KubeObject) : undefined;
  const errs = validateObject(info, o, prev);
  return errs.length === 0 ? '' : invalid(info.kind, info.group, o.metadata?.name ?? '', errs).message;
}

const svc = (spec: Record<string, unknown>, name = 'web'): unknown => ({ metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ...spec } });
const podSpec = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ containers: [{ name: 'c', image: 'nginx' }], ...over });
const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): unknown => ({ metadata: { name: 'p', namespace: 'default', ...meta }, spec });
const deploy = (spec: Record<string, unknown>): unknown => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podSpec() }, ...spec },
});

const DNS1035 = `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`;
const DNS1123_LABEL = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
const DNS1123_SUBDOMAIN = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
const LABEL_VALUE = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`;
const LABEL_KEY = `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`;

const table: { name: string; info: Info; obj: unknown; old?: unknown; want: string }[] = [
  // --- names and metadata
  { name: 'valid Service', info: R.services, obj: svc({ ports: [{ port: 80 }] }), want: '' },
  { name: 'name required', info: R.services, obj: { metadata: { namespace: 'default' }, spec: { ports: [{ port: 80 }] } },
    want: 'Service "" is invalid: metadata.name: Required value: name or generateName is required' },
  { name: 'Service names are DNS-1035 labels', info: R.services, obj: svc({ ports: [{ port: 80 }] }, '1web'),
    want: `Service "1web" is invalid: metadata.name: Invalid value: "1web": ${DNS1035}` },
  { name: 'Namespace names are DNS-1123 labels', info: R.namespaces, obj: { metadata: { name: 'a.b' } },
    want: 'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": must not contain dots' },
  { name: 'Namespace name with upper case', info: R.namespaces, obj: { metadata: { name: 'Team' } },
    want: `Namespace "Team" is invalid: metadata.name: Invalid value: "Team": ${DNS1123_LABEL}` },
  { name: 'Pod names are DNS-1123 subdomains', info: R.pods, obj: pod(podSpec(), { name: 'My_pod' }),
    want: `Pod "My_pod" is invalid: metadata.name: Invalid value: "My_pod": ${DNS1123_SUBDOMAIN}` },
  { name: 'label value syntax', info: R.pods, obj: pod(podSpec(), { labels: { app: 'bad value' } }),
    want: `Pod "p" is invalid: metadata.labels: Invalid value: "bad value": ${LABEL_VALUE}` },
  { name: 'label key syntax', info: R.pods, obj: pod(podSpec(), { labels: { '-x': 'v' } }),
    want: `Pod "p" is invalid: metadata.labels: Invalid value: "-x": ${LABEL_KEY}` },
  { name: 'label value too long', info: R.pods, obj: pod(podSpec(), { labels: { a: 'x'.repeat(64) } }),
    want: `Pod "p" is invalid: metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters` },
  { name: 'annotations size', info: R.pods, obj: pod(podSpec(), { annotations: { a: 'x'.repeat(262144) } }),
    want: 'Pod "p" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes' },
  { name: 'namespace required on namespaced kinds', info: R.configmaps, obj: { metadata: { name: 'c' } },
    want: 'ConfigMap "c" is invalid: metadata.namespace: Required value' },

  // --- Service
  { name: 'port 0', info: R.services, obj: svc({ ports: [{ port: 0, targetPort: 80 }] }),
    want: 'Service "web" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive' },
  { name: 'port too big and targetPort too big', info: R.services, obj: svc({ ports: [{ port: 70000, targetPort: 70001 }] }),
    want: 'Service "web" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 70001: must be between 1 and 65535, inclusive]' },
  { name: 'ports required', info: R.services, obj: svc({}),
    want: 'Service "web" is invalid: spec.ports: Required value' },
  { name: 'headless Services need no ports', info: R.services, obj: svc({ clusterIP: 'None' }), want: '' },
  { name: 'each port needs a name when there are several', info: R.services, obj: svc({ ports: [{ port: 80 }, { port: 81 }] }),
    want: 'Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]' },
  { name: 'duplicate port names', info: R.services, obj: svc({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }),
    want: 'Service "web" is invalid: spec.ports[1].name: Duplicate value: "http"' },
  { name: 'duplicate port/protocol pairs', info: R.services, obj: svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80, targetPort: 81 }] }),
    want: 'Service "web" is invalid: spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}' },
  { name: 'same port, different protocols is fine', info: R.services, obj: svc({ ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }), want: '' },
  { name: 'targetPort must be an IANA_SVC_NAME', info: R.services, obj: svc({ ports: [{ port: 80, targetPort: 'A--' }] }),
    want: 'Service "web" is invalid: [spec.ports[0].targetPort: Invalid value: "A--": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), spec.ports[0].targetPort: Invalid value: "A--": must contain at least one letter (a-z), spec.ports[0].targetPort: Invalid value: "A--": must not contain consecutive hyphens, spec.ports[0].targetPort: Invalid value: "A--": must not begin or end with a hyphen]' },
  { name: 'named targetPort is fine', info: R.services, obj: svc({ ports: [{ port: 80, targetPort: 'http-web' }] }), want: '' },
  { name: 'protocol values', info: R.services, obj: svc({ ports: [{ port: 80, protocol: 'HTTP' }] }),
    want: 'Service "web" is invalid: spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"' },
  { name: 'type values', info: R.services, obj: svc({ type: 'Internal', ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"' },
  { name: 'sessionAffinity values', info: R.services, obj: svc({ sessionAffinity: 'Cookie', ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"' },
  { name: 'affinity timeout above a day', info: R.services, obj: svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } }, ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400' },
  { name: 'affinity timeout of zero is defaulted away? no: 0 is invalid', info: R.services, obj: svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400' },
  { name: 'selector labels validated', info: R.services, obj: svc({ selector: { app: 'a b' }, ports: [{ port: 80 }] }),
    want: `Service "web" is invalid: spec.selector: Invalid value: "a b": ${LABEL_VALUE}` },
  { name: 'bad clusterIP', info: R.services, obj: svc({ clusterIP: '10.96.0.300', ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
  { name: 'clusterIP immutable', info: R.services,
    obj: svc({ clusterIP: '10.96.0.21', ports: [{ port: 80 }] }), old: svc({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.21"]: may not change once set' },
  { name: 'clusterIP changed alone (apply of spec.clusterIP) reports clusterIPs like Kubernetes', info: R.services,
    obj: svc({ clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.20'], ports: [{ port: 80 }] }), old: svc({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] }),
    want: 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.21"]: may not change once set' },
  { name: 'clusterIP omitted on update is carried over (patchAllocatedValues)', info: R.services,
    obj: svc({ ports: [{ port: 80 }] }), old: svc({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] }), want: '' },
  { name: 'clusterIP unchanged on update is fine', info: R.services,
    obj: svc({ clusterIP: '10.96.0.20', ports: [{ port: 8080 }] }), old: svc({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] }), want: '' },
  { name: 'nodePort forbidden on ClusterIP', info: R.services, obj: svc({ ports: [{ port: 80, nodePort: 30080 }] }),
    want: "Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'" },

  // --- Pod
  { name: 'valid Pod', info: R.pods, obj: pod(podSpec()), want: '' },
  { name: 'containers required', info: R.pods, obj: pod({ containers: [] }),
    want: 'Pod "p" is invalid: spec.containers: Required value' },
  { name: 'image required, container name syntax', info: R.pods, obj: pod({ containers: [{ name: 'Web' }] }),
    want: `Pod "p" is invalid: [spec.containers[0].name: Invalid value: "Web": ${DNS1123_LABEL}, spec.containers[0].image: Required value]` },
  { name: 'duplicate container names', info: R.pods, obj: pod({ containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] }),
    want: 'Pod "p" is invalid: spec.containers[1].name: Duplicate value: "a"' },
  { name: 'containerPort range', info: R.pods, obj: pod({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 65536 }] }] }),
    want: 'Pod "p" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 65536: must be between 1 and 65535, inclusive' },
  { name: 'restartPolicy values', info: R.pods, obj: pod(podSpec({ restartPolicy: 'Sometimes' })),
    want: 'Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' },
  { name: 'liveness probe successThreshold must be 1', info: R.pods,
    obj: pod({ containers: [{ name: 'a', image: 'x', livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } }] }),
    want: 'Pod "p" is invalid: spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1' },
  { name: 'probe needs a handler', info: R.pods, obj: pod({ containers: [{ name: 'a', image: 'x', readinessProbe: { periodSeconds: 5 } }] }),
    want: 'Pod "p" is invalid: spec.containers[0].readinessProbe: Required value: must specify a handler type' },
  { name: 'pod spec is mostly immutable', info: R.pods,
    obj: pod(podSpec({ containers: [{ name: 'c', image: 'nginx', args: ['x'] }] })), old: pod(podSpec()),
    want: 'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  containers:\n- \t[{"image":"nginx","imagePullPolicy":"Always","name":"c","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}]\n+ \t[{"args":["x"],"image":"nginx","imagePullPolicy":"Always","name":"c","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}]' },
  { name: 'pod image may change', info: R.pods, obj: pod(podSpec({ containers: [{ name: 'c', image: 'nginx:1.26', imagePullPolicy: 'Always' }] })), old: pod(podSpec()), want: '' },
  { name: 'pod may not add containers', info: R.pods,
    obj: pod({ containers: [{ name: 'c', image: 'nginx' }, { name: 'd', image: 'x' }] }), old: pod(podSpec()),
    want: 'Pod "p" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers' },

  // --- Deployment / ReplicaSet / StatefulSet
  { name: 'valid Deployment', info: R.deployments, obj: deploy({}), want: '' },
  { name: 'Deployment selector required', info: R.deployments, obj: deploy({ selector: undefined }),
    want: 'Deployment.apps "web" is invalid: spec.selector: Required value' },
  { name: 'Deployment selector must match template labels', info: R.deployments, obj: deploy({ selector: { matchLabels: { app: 'other' } } }),
    want: 'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`' },
  { name: 'Deployment empty selector', info: R.deployments, obj: deploy({ selector: {} }),
    want: 'Deployment.apps "web" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for deployment' },
  { name: 'Deployment replicas >= 0', info: R.deployments, obj: deploy({ replicas: -1 }),
    want: 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' },
  { name: 'Deployment selector immutable', info: R.deployments,
    obj: deploy({ selector: { matchLabels: { app: 'web', v: '2' } }, template: { metadata: { labels: { app: 'web', v: '2' } }, spec: podSpec() } }), old: deploy({}),
    want: 'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable' },
  { name: 'Deployment template restartPolicy must be Always', info: R.deployments,
    obj: deploy({ template: { metadata: { labels: { app: 'web' } }, spec: podSpec({ restartPolicy: 'Never' }) } }),
    want: 'Deployment.apps "web" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' },
  { name: 'Deployment maxUnavailable and maxSurge both 0', info: R.deployments,
    obj: deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }),
    want: 'Deployment.apps "web" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0' },
  { name: 'ReplicaSet selector must match', info: R.replicasets,
    obj: { metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] }, template: { metadata: { labels: { app: 'b' } }, spec: podSpec() } } },
    want: 'ReplicaSet.apps "rs" is invalid: spec.template.metadata.labels: Invalid value: {"app":"b"}: `selector` does not match template `labels`' },
  { name: 'StatefulSet empty selector', info: R.statefulsets,
    obj: { metadata: { name: 'db', namespace: 'default' }, spec: { serviceName: 'db', selector: {}, template: { metadata: { labels: { app: 'db' } }, spec: podSpec() } } },
    want: 'StatefulSet.apps "db" is invalid: spec.selector: Invalid value: {}: empty selector is not valid for statefulset.' },
  { name: 'StatefulSet spec immutable except listed fields', info: R.statefulsets,
    obj: { metadata: { name: 'db', namespace: 'default' }, spec: { serviceName: 'db2', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: podSpec() } } },
    old: { metadata: { name: 'db', namespace: 'default' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: podSpec() } } },
    want: "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" },

  // --- ConfigMap
  { name: 'ConfigMap keys', info: R.configmaps, obj: { metadata: { name: 'c', namespace: 'default' }, data: { 'a/b': 'x', ok: 'y' } },
    want: `ConfigMap "c" is invalid: data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')` },

  // --- EndpointSlice / Endpoints
  { name: 'EndpointSlice addressType required', info: R.endpointslices, obj: { metadata: { name: 'e', namespace: 'default' }, endpoints: [] },
    want: 'EndpointSlice.discovery.k8s.io "e" is invalid: addressType: Required value' },
  { name: 'EndpointSlice addressType values', info: R.endpointslices, obj: { metadata: { name: 'e', namespace: 'default' }, addressType: 'IP', endpoints: [] },
    want: 'EndpointSlice.discovery.k8s.io "e" is invalid: addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"' },
  { name: 'EndpointSlice endpoints need addresses of the right family', info: R.endpointslices,
    obj: { metadata: { name: 'e', namespace: 'default' }, addressType: 'IPv4', endpoints: [{ addresses: [] }, { addresses: ['fd00::1'] }, { addresses: ['127.0.0.1'] }] },
    want: 'EndpointSlice.discovery.k8s.io "e" is invalid: [endpoints[0].addresses: Required value: must contain at least 1 address, endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address, endpoints[2].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)]' },
  { name: 'valid EndpointSlice', info: R.endpointslices,
    obj: { metadata: { name: 'e', namespace: 'default' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80 }] }, want: '' },
  { name: 'Endpoints port range', info: R.endpoints,
    obj: { metadata: { name: 'e', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 0 }] }] },
    want: 'Endpoints "e" is invalid: subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive' },
];

for (const c of table) {
  test(`validation: ${c.name}`, () => {
    assert.equal(message(c.info, c.obj, c.old), c.want);
  });
}

test('validation: causes carry the field and the body (Status.details.causes)', () => {
  const o = applyDefaults(R.services, structuredClone(svc({ ports: [{ port: 0, targetPort: 80 }] })) as KubeObject);
  const err = invalid('Service', '', 'web', validateObject(R.services, o));
  assert.equal(err.code, 422);
  assert.deepEqual(err.details?.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive', field: 'spec.ports[0].port' }]);
});
