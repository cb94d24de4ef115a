/**
 * Whole-cluster analysis at scale: the class-based engine (engine.ts), group questions and summaries
 * (groups.ts). Pure: no IO. See
 * docs/benchmarks.md for what it costs.
 */
export { ScaleEngine } from './engine.js';
export { TieredScaleEngine } from './tiers/index.js';
export type { TieredScaleOptions } from './tiers/index.js';
export { classAnalysis } from './analysis.js';
export type { ClassAnalysis } from './analysis.js';
export type { DenseRelation } from './dense.js';
export type { ClusterChange, NamespaceCounts, Progress, ScaleOptions, ScaleProbe, ScaleStats, Strategy } from './types.js';
export { MAX_GROUP_CLASS_PAIRS, groupReachability, matrixSummary, withPods } from './groups.js';
export type { GroupAnswer, MatrixSummary } from './groups.js';
