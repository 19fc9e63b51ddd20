export * from './fpe.js';
export { MINTERS, type MintContext, type Minted, type Minter, RecordKeys } from './kinds.js';
export * from './token-keys.js';
