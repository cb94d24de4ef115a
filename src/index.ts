/**
 * netpol as a library: load manifests, validate them as the API server would, and ask the engine.
 *
 * ```ts
 * import { readSources, loadCluster, validateCluster, Engine, podEndpoint } from 'netpol';
 * const { sources } = await readSources(['manifests/'], { recursive: true });
 * const { cluster, diagnostics } = loadCluster(sources);
 * const errors = validateCluster(cluster);
 * const engine = new Engine(cluster);
 * const [a, b] = cluster.pods;
 * engine.evaluate({ source: podEndpoint(a), destination: podEndpoint(b), protocol: 'TCP', port: 80 });
 * ```
 *
 * Everything here except `readSources` is pure (no IO) and runs in a browser too.
 */

// Diagnostics
export type { Diagnostic, Severity, Position, ObjectSource, Locator } from './diag/diagnostic.js';
export { formatDiagnostic, hasErrors, attachSource } from './diag/diagnostic.js';

// Model
export type * from './model/k8s.js';
export type { Cluster, NamespaceInfo, PodInfo, PolicyInfo, NamedPort, WorkloadRef, Protocol, Labels } from './model/cluster.js';
export { NAMESPACE_NAME_LABEL, PROTOCOLS, podKey } from './model/cluster.js';

// Loading
export { readSources } from './load/sources.js';
export type { ReadSourcesOptions } from './load/sources.js';
export { loadCluster } from './load/index.js';
export type { LoadOptions, LoadResult, SourceText } from './load/index.js';

// Validation
export { validateNetworkPolicy, validateLabelSelector } from './validate/index.js';
export { validateCluster, analyze } from './analysis.js';

// Policy model and engine
export { normalizePolicy, effectivePolicyTypes } from './policy/model.js';
export type { Policy, Rule, Peer, PortSpec, PortMatch, Direction, PolicyRef, NamespaceScope } from './policy/model.js';
export { PortSet } from './policy/portset.js';
export { Engine, podEndpoint, externalEndpoint, endpointText, resolveNamedPort } from './engine/engine.js';
export { oracleAllows } from './engine/oracle.js';
export { reachability, sortPods } from './engine/matrix.js';
export type { Probe, ProbeResult, Reachability } from './engine/matrix.js';
export type * from './engine/types.js';

// Selectors and addresses
export { compileSelector, matches as selectorMatches } from './selector/index.js';
export type { Selector, Requirement } from './selector/index.js';
export { parseIP, parseCIDR, formatIP, formatCIDR, AddressSet } from './ip/index.js';
export type { IP, CIDR, Family } from './ip/index.js';

// Command line, for embedding
export { run } from './cli/main.js';
export type { IO } from './cli/io.js';

// nftables: compile one node's ruleset, render it (whole or as a diff), read the kernel's listing back
export { compileNode, renderRuleset, renderDiff, rulesetFromNftJson, interpret } from './nft/index.js';
export type { Ruleset, CompileOptions, CompileNotes, Packet, Outcome } from './nft/index.js';
