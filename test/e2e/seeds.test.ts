// The seed labs with the default proxy (nftables); see seed-labs.ts.
import { seedLabs } from './seed-labs.js';

seedLabs('nftables');
