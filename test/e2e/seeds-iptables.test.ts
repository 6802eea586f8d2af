// The seed labs with the iptables proxy; see seed-labs.ts.
import { seedLabs } from './seed-labs.js';

seedLabs('iptables');
