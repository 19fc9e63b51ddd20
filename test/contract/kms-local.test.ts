import { randomBytes } from 'node:crypto';
import { LocalKek } from '../../src/kms/index.js';
import { runKmsContract } from './kms-contract.js';

runKmsContract({
  name: 'local',
  outageUnsupported: 'the local KEK is a key in memory: it has no network to lose',
  make: async () => {
    const kek = new LocalKek(randomBytes(32), { bytes: (n) => randomBytes(n) });
    return {
      kek,
      down: async () => {},
      up: async () => {},
      close: () => kek.close(),
    };
  },
});
