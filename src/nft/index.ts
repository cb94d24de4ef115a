/**
 * nftables enforcement, pure part: compile the policy model of a cluster into one node's ruleset (a typed
 * IR), render it for `nft -f` (whole table or incremental, each one transaction), read a kernel's JSON
 * listing back into the IR, and interpret the IR on a packet. No IO here: running nft is the agent's job.
 * See docs/nftables.md for the layout.
 */
export type { Ruleset, Chain, Rule, Match, Verdict, NamedSet, VerdictMap, CompileNotes, BaseChainSpec, SetKeyType, Hook, L4Protocol, CtState, AddressField, Limit } from './ir.js';
export { compileNode, NodeCompiler, DEFAULT_TABLE } from './compile.js';
export type { CompileOptions, NodeCompilerOptions } from './compile.js';
export { renderRuleset, renderDiff, renderRule, diffRuleset, renderChange, type RulesetChange } from './render.js';
export { rulesetFromNftJson } from './json.js';
export { interpret } from './interpret.js';
export { logPrefix, parseTierRuleLogName, subjectChainName, tierRuleLogName } from './names.js';
export { parseTierRuleComment } from './tiers.js';
export type { LogAction } from './names.js';
export type { Packet, Outcome, TraceStep } from './interpret.js';
