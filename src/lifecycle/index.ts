export * from './kek-rotation.js';
export * from './move-records.js';
export * from './ork-reissue.js';
export * from './tek-rotation.js';
