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
export type { Diagnostic, DiagnosticCode, Severity, Position, ObjectSource, ObjectRef, Locator } from './diag/index.js';
export { formatDiagnostic, hasErrors, attachSource, about, objectLabel, ObjectMap, DIAGNOSTIC_CODES, isDiagnosticCode } from './diag/index.js';

// Model
// The Kubernetes API types read (NetworkPolicy, Pod, ...) and the loaded cluster's
export type * from './model/index.js';
export { NAMESPACE_NAME_LABEL, PROTOCOLS, podKey } from './model/index.js';

// Loading (text already read; reading files is netpol/node's readSources)
export { loadCluster } from './load/index.js';
export type { LoadOptions, LoadResult, SourceText } from './load/index.js';

// Validation
export { validateNetworkPolicy, validateLabelSelector, validateCluster } from './validate/index.js';
export { analyze } from './engine/index.js';

// Policy model and engine
export { normalizePolicy, effectivePolicyTypes, PortSet, MODE_ANNOTATION, POLICY_MODES } from './policy/index.js';
export type { Policy, Rule, Peer, PortSpec, PortMatch, Direction, PolicyRef, NamespaceScope, PolicyMode } from './policy/index.js';
export { Engine, podEndpoint, externalEndpoint, endpointText, resolveNamedPort, oracleAllows, reachability, sortPods, auditVerdict } from './engine/index.js';
export type { Probe, ProbeResult, Reachability, AuditVerdict, EngineOptions } from './engine/index.js';
export type {
  Endpoint,
  Traffic,
  NamespaceCheck,
  PodCheck,
  IPBlockCheck,
  PeerResult,
  PortResult,
  RuleResult,
  PolicyResult,
  TierDecider,
  PortDecision,
  ClusterPeerResult,
  ClusterRuleResult,
  ClusterPolicyResult,
  TierResult,
  SideResult,
  VerdictReason,
  Verdict,
} from './engine/index.js';

// Selectors and addresses
export { compileSelector, matches as selectorMatches } from './selector/index.js';
export type { Selector, Requirement } from './selector/index.js';
export { parseIP, parseCIDR, formatIP, formatCIDR, AddressSet } from './ip/index.js';
export type { IP, CIDR, Family } from './ip/index.js';

// nftables: compile one node's ruleset, render it (whole or as a diff), read the kernel's listing back
export { compileNode, renderRuleset, renderDiff, rulesetFromNftJson, interpret } from './nft/index.js';
export type { Ruleset, CompileOptions, CompileNotes, Packet, Outcome } from './nft/index.js';
