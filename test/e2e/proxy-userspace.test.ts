// The proxy conformance suite against the userspace backend (root; real kernel, real namespaces).
import { proxyConformance } from './proxy-conformance.js';

proxyConformance('userspace');
