// The proxy conformance suite against the nftables backend (root; real kernel, real namespaces).
import { proxyConformance } from './proxy-conformance.js';

proxyConformance('nftables');
