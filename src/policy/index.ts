export * from './policy.js';
export { PolicyBook, type PolicyBookOptions } from './policy-book.js';
