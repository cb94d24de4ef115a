/**
 * netpol as a library, the pure entry: load manifests, validate them as the API server would, ask the
 * engine, compile a node's nftables ruleset. Nothing reachable from here does IO or imports `node:*`
 * (test/library.test.ts walks the imports to hold that), so it runs in a browser too. Reading files,
 * the CLI, the agent and the lab are in the IO entry, `netpol/node` (src/node.ts).
 *
 * ```ts
 * import { loadCluster, validateCluster, Engine, podEndpoint } from 'netpol';
 * import { readSources } from 'netpol/node';
 * const { sources } = await readSources(['manifests/'], { recursive: true });
 * const { cluster, diagnostics } = loadCluster(sources);
 * const errors = validateCluster(cluster);
 * const engine = new Engine(cluster);
 * const [a, b] = cluster.pods;
 * engine.evaluate({ source: podEndpoint(a), destination: podEndpoint(b), protocol: 'TCP', port: 80 });
 * ```
 */

// Diagnostics
export type { Diagnostic, Severity, Position, ObjectSource, Locator } from './diag/diagnostic.js';
export { formatDiagnostic, hasErrors, attachSource } from './diag/diagnostic.js';

// Model
export type * from './model/k8s.js';
export type { Cluster, NamespaceInfo, PodInfo, PolicyInfo, NamedPort, WorkloadRef, Protocol, Labels } from './model/cluster.js';
export { NAMESPACE_NAME_LABEL, PROTOCOLS, podKey } from './model/cluster.js';

// Loading (text already read; reading files is netpol/node's readSources)
export { loadCluster } from './load/index.js';
export type { LoadOptions, LoadResult, SourceText } from './load/index.js';

// Validation
export { validateNetworkPolicy, validateLabelSelector } from './validate/index.js';
export { validateCluster } from './validate/index.js';
export { analyze } from './engine/analyze.js';

// Policy model and engine
export { normalizePolicy, effectivePolicyTypes } from './policy/model.js';
export type { Policy, Rule, Peer, PortSpec, PortMatch, Direction, PolicyRef, NamespaceScope } from './policy/model.js';
export { PortSet } from './policy/portset.js';
export { Engine, podEndpoint, externalEndpoint, endpointText, resolveNamedPort } from './engine/engine.js';
export { auditVerdict } from './engine/audit.js';
export type { AuditVerdict } from './engine/audit.js';
export type { EngineOptions } from './engine/engine.js';
export { MODE_ANNOTATION, POLICY_MODES, type PolicyMode } from './policy/mode.js';
export { oracleAllows } from './engine/oracle.js';
export { reachability, sortPods } from './engine/matrix.js';
export type { Probe, ProbeResult, Reachability } from './engine/matrix.js';
export type * from './engine/types.js';

// Selectors and addresses
export { compileSelector, matches as selectorMatches } from './selector/index.js';
export type { Selector, Requirement } from './selector/index.js';
export { parseIP, parseCIDR, formatIP, formatCIDR, AddressSet } from './ip/index.js';
export type { IP, CIDR, Family } from './ip/index.js';

// nftables: compile one node's ruleset, render it (whole or as a diff), read the kernel's listing back
export { compileNode, renderRuleset, renderDiff, rulesetFromNftJson, interpret } from './nft/index.js';
export type { Ruleset, CompileOptions, CompileNotes, Packet, Outcome } from './nft/index.js';
