export { createKekRing, LOCAL_KEK_FILE } from './factory.js';
export { LocalKek, loadOrCreateLocalKek, localKekRef } from './local.js';
export * from './port.js';
