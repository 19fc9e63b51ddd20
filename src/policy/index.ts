export { effectiveTtl, expiresAtOf, isExpired, isValidTtl } from './expiry.js';
export { maskValue, REDACTED } from './mask.js';
export * from './policy.js';
export { PolicyBook, type PolicyBookOptions } from './policy-book.js';
