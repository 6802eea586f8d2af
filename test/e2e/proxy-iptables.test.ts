// The proxy conformance suite against the iptables backend (iptables-nft inside the node namespace).
import { proxyConformance } from './proxy-conformance.js';

proxyConformance('iptables');
