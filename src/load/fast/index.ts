/**
 * The fast path for loading large manifest sets (load.ts says how it works): the same result as the
 * reference loader (`loadCluster`), or a hand-over to it.
 */
export { loadClusterFast } from './load.js';
export type { FastLoadOptions, FastLoadResult } from './load.js';
export { FastLoadCache } from './file-cache.js';
export { parseYamlSubset } from './subset.js';
export type { FastDocument } from './subset.js';
