/**
 * The Node.js flags the cluster DNS process runs with: the `clusterip/dns` image's entrypoint
 * (src/node/images/catalog.ts) and the DNS benchmark (bench/dns) both take them from here, so the
 * figures measured are those of the server as deployed.
 *
 * `--max-semi-space-size=2` (MB), a small young generation: every query leaves a few hundred bytes
 * of short-lived objects (Node's Buffer per datagram, the sender's address, the reply), and each
 * scavenge also sweeps the dead Buffers' backing stores, so a small young generation gives short,
 * frequent pauses (~0.3 ms every ~40 ms at 55k QPS) rather than rarer, longer ones; it also keeps
 * RSS low. 1, 2, 8 and 16 MB were compared (bench/dns/README.md); none was clearly better for p99.
 */
export const DNS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
