export {
  type AdminDeps,
  assertTenantName,
  createTenant,
  ensureTokenRootKey,
  type IssuedOrk,
  issueOrk,
} from './admin.js';
