/**
 * The semantic diff of two clusters: which ordered pod pairs a change newly allows or denies, per
 * probe, each attributed to the policy, rule or label change that caused it. Pure: no IO (the CLI
 * resolves the sides: files, stdin, git revisions).
 */
export { diffReachability } from './reachability.js';
export type { DiffProbe, DiffSide, PairChange, ProbeDiff, ReachabilityDiff } from './reachability.js';
export { attribute, causeText, viewOf } from './attribute.js';
export type { Cause, PolicyEffect, SideView, VerdictView } from './attribute.js';
export { labelChanges, objectChanges, sameValue } from './changes.js';
export type { ChangeKind, NamespaceChange, ObjectChanges, PodAspect, PodChange, PolicyChange } from './changes.js';
export { defaultProbes, probeText } from './probes.js';
