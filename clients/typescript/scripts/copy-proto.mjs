// Copies the contract into the package (proto/sidekey/v1/sidekey.proto), so
// that the packed client carries the proto its gRPC transport loads.
import { copyFileSync, mkdirSync } from 'node:fs';

const from = new URL('../../../proto/sidekey/v1/sidekey.proto', import.meta.url);
const to = new URL('../proto/sidekey/v1/', import.meta.url);
mkdirSync(to, { recursive: true });
copyFileSync(from, new URL('sidekey.proto', to));
