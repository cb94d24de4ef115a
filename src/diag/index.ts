/** Diagnostics as values: `{ code, severity, message, path, source }`, placed at file:line:column. */
export * from './diagnostic.js';
export * from './codes.js';
