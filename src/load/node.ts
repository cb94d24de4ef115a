/**
 * The loader's IO entry: reading manifests from files, directories and stdin into texts for
 * `loadCluster`. Kept apart from index.ts, which the pure library entry (src/index.ts) imports.
 */
export { readSources, decodeUtf8, DEFAULT_MAX_BYTES, STDIN_NAME } from './sources.js';
export type { ReadSourcesOptions, SourceText } from './sources.js';
