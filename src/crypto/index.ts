export * from './encoding.js';
export * from './envelope.js';
export * from './identifiers.js';
export * from './keys.js';
export * from './ork-string.js';
export * from './primitives.js';
export * from './subject.js';
