/**
 * The lab: every pod of a cluster as a network namespace on K lab nodes (each a namespace acting as the
 * node's router), real TCP/UDP servers and connections, enforcement plugged in per node, and the result
 * in the shape of `netpol matrix -o json`. Needs root, `ip` and (for nftables enforcers) `nft`.
 *
 *   runLab(cluster, { nodes, probes, enforcer }) -> Reachability      one shot, always torn down
 *   runLabReport(...)                           -> + per-connection outcomes, timings, plan warnings
 *   Lab.create(cluster, options) -> Lab         build and keep (tests): lab.probe(), lab.hold(), lab.destroy()
 *   labUp / labProbe / labDown                  a lab that outlives its creator, by id
 *   listLabs / cleanupLabs                      find and remove leftovers
 *   planLab(cluster, { id, nodes })             the pure plan (no root needed)
 */
export {
  Lab,
  runLab,
  runLabReport,
  labUp,
  labDown,
  labProbe,
  listLabs,
  cleanupLabs,
  destroyLab,
  listNetns,
  DEFAULT_STATE_DIR,
  type LabOptions,
  type RunLabOptions,
  type LabRunReport,
  type LabState,
  type LabListing,
  type LabTimings,
  type LabEvent,
  type LabPhase,
  type HeldConnection,
  type TeardownReport,
} from './lab.js';
export { compiledEnforcer, nftEnforcer, staticEnforcer, type Enforcer, type LabHandle, type RulesetSource } from './enforcer.js';
export { LabError, checkPrerequisites, requirePrerequisites, type LabErrorCode, type Prerequisites } from './exec.js';
export { planLab, labNodeName, MAX_NODES, type LabPlan, type LabLayout, type LayoutPod, type LayoutNode, type LayoutUplink, type PlanOptions } from './plan.js';
export { planProbes, probePort, type LabProbe, type ProbeOptions, type ProbeOutcome, type ProbeReport, type ConnectionResult } from './probe.js';
export { labManifests } from './manifests.js';
export { labNames, isLabId, labIdOfNetns, type LabNames } from './names.js';
export { agentEnforcer, cliCommand, type AgentEnforcer, type AgentEnforcerOptions, type NodeAgentEvent } from './agent-enforcer.js';
export { kubeEnforcer, deployDir, AGENT_ACCOUNT, type KubeEnforcer, type KubeEnforcerOptions, type KubeLabInfo } from './kube-enforcer.js';
