/**
 * Loading manifests into the Cluster model, the pure part: YAML with positions, strict decoding, List
 * expansion, namespaces (`loadCluster`), and its fast path for large manifest sets (./fast, `loadClusterFast`). Browser-safe: the IO shell that reads files, directories and
 * stdin (`readSources`) lives in ./sources.ts and is imported from there by the CLI.
 */
export { loadCluster, nodeAddresses, podIPs, podSpecInfo, serviceInfo, sharedAddresses } from './load.js';
export type { LoadOptions, LoadResult, Report, SourceText, SpecInfo } from './load.js';
export { parseDocuments, plainNode, DEFAULT_MAX_ALIAS_COUNT } from './yaml.js';
export { collectObjects } from './objects.js';
export type { PNode, PMap, PSeq, PScalar, PEntry, ParseOptions } from './yaml.js';
export { locatePath, parseFieldPath } from './locate.js';
export { decodeKind } from './kinds.js';
export { FastLoadCache, loadClusterFast, parseYamlSubset } from './fast/index.js';
export type { FastDocument, FastLoadOptions, FastLoadResult } from './fast/index.js';
export type { DecodedObject } from './kinds.js';
