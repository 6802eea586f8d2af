#!/usr/bin/env node
/**
 * The kubectl plugin: kubectl runs an executable named `kubectl-clusterip` found on PATH for
 * `kubectl clusterip ...` (https://kubernetes.io/docs/tasks/extend-kubectl/kubectl-plugins/), passing
 * the remaining arguments. In plugin mode the cluster and namespace default to kubectl's current
 * context (`clusterip-<name>`), and help and fixes say `kubectl clusterip`.
 */
process.env.CLUSTERIP_KUBECTL_PLUGIN = '1';
await import('./main.js');
