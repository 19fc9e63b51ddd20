export * from './fpe.js';
export {
  checkSubjectAllowed,
  MINTERS,
  type MintContext,
  type Minted,
  type Minter,
  RecordKeys,
} from './kinds.js';
export * from './token-keys.js';
