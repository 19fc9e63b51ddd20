export { type AdminDeps, assertTenantName, createTenant, type IssuedOrk, issueOrk } from './admin.js';
