// The pure tree model: names as bytes, entries, canonical encoding and ids.
export * from './bytes.js';
export * from './entry.js';
export * from './hash.js';
export * from './name.js';
export * from './encode.js';
export * from './decode.js';
export * from './lookup.js';
export * from './skims.js';
