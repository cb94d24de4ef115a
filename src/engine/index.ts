/**
 * The explaining engine (a verdict with its explanation for one connection), the tiers of cluster-scoped
 * policies, reachability matrices, and the spec-literal oracle that property tests hold the engines to.
 */
export * from './engine.js';
export * from './types.js';
export * from './matrix.js';
export * from './tiers.js';
export { analyze } from './analyze.js';
export { oracleAllows } from './oracle.js';
export * from './audit.js';
