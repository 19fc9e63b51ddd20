export * from './ork-scope.js';
