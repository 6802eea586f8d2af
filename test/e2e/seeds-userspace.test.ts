// The seed labs with the userspace proxy (kube-proxy's historical mode); see seed-labs.ts.
import { seedLabs } from './seed-labs.js';

seedLabs('userspace');
