import { MemoryStorage } from './memory.js';
import { runStorageConformance } from './testing/conformance.js';

runStorageConformance('memory', async () => ({ storage: new MemoryStorage({ historySize: 1000 }), cleanup: async () => {} }));
