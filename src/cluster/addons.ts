/**
 * The objects a cluster creates for itself at start-up, as kubeadm does: the `default/kubernetes`
 * Service (first Service IP) and cluster DNS — the `kube-system/kube-dns` Service (10th Service IP,
 * 10.96.0.10 by default) and the `coredns` Deployment whose Pod runs clusterip's DNS server
 * (image `clusterip/dns`).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';

/** The `n`-th address of an IPv4 CIDR (n = 1 is the first usable address). */
export function nthAddress(cidr: string, n: number): string {
  const [base, bits] = cidr.split('/');
  const parts = base.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) || !(Number(bits) >= 0 && Number(bits) <= 30)) {
    throw new Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  }
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  const start = ((parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]) >>> 0) & mask;
  const v = (start + n) >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** `default/kubernetes`: the API server's Service. */
export function kubernetesService(serviceCIDR: string): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP', clusterIP: nthAddress(serviceCIDR, 1),
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    },
  };
}

/** `kube-system/kube-dns`: the cluster DNS Service, with kubeadm's named ports (dns, dns-tcp, metrics 9153). */
export function kubeDnsService(serviceCIDR: string): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      name: 'kube-dns', namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
    },
    spec: {
      type: 'ClusterIP', clusterIP: nthAddress(serviceCIDR, 10), selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
}

/**
 * `kube-system/coredns`: one replica of clusterip's DNS server, reading the API over the unix socket.
 *
 * No readiness probe, on purpose. It used to have a tcpSocket probe on port 53 (period 1 s, the
 * smallest Kubernetes allows). The probe runs as soon as the container starts, as the kubelet's
 * does, and the DNS process needs ~100–200 ms to bind its port: whenever the first probe won that
 * race it failed, the next came 1 s later, and `up` waited ~1.1 s instead of ~0.2 s for DNS (half
 * the starts, measured). The probe bought nothing in exchange: the kernel completes a TCP handshake
 * for a bound socket even when the server cannot answer, and before the port is bound a query is
 * refused at once (ICMP port unreachable) exactly as the proxy refuses a Service with no ready
 * endpoints. The server answers SERVFAIL until its informers have synced, never a wrong NXDOMAIN.
 */
export function dnsDeployment(opts: { apiSocket: string; zone: string; upstream?: string; nodeSelector?: Readonly<Record<string, string>> }): Deployment {
  const args = ['--api-socket', opts.apiSocket, '--listen', '0.0.0.0:53', '--zone', opts.zone, '--metrics-listen', '0.0.0.0:9153'];
  if (opts.upstream) args.push('--upstream', opts.upstream);
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      template: {
        metadata: { labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          dnsPolicy: 'Default',
          // It authenticates over the unix socket, never with a token: without the token volume
          // the container starts straight away. With it, the volume's mountPath (/var/run/secrets/…)
          // needs /run shadowed in the container's own mount namespace (src/node/volumes/mounts.ts),
          // ~30 short-lived processes (a mkdir and a mount for every entry of /run) before the DNS
          // process itself starts: 100–500 ms on `up`'s path (bench/cluster).
          automountServiceAccountToken: false,
          // It reads the API over the API server's unix socket, a file of that API server's machine:
          // it must run on one of that machine's nodes (until it can use a service-account token).
          ...(opts.nodeSelector ? { nodeSelector: { ...opts.nodeSelector } } : {}),
          containers: [{
            name: 'coredns', image: 'clusterip/dns', args,
            ports: [
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
              { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
              { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
            ],
          }],
        },
      },
    },
  };
}
