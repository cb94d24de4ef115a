/**
 * `netpol serve`: the web page and its JSON API (docs/api.md). The page's code is in src/web; the
 * cluster comes from a `ClusterSource` (files today; a live cluster plugs in through the same seam).
 */
export { serveCommand, startServer, SERVE_OPTIONS } from './command.js';
export type { DropSources, RunningServer, ServeOptions } from './command.js';
export { AgentPoller, discoverAgents, httpTarget, podProxyTarget, AGENT_NAMESPACE, AGENT_SELECTOR, type AgentTarget, type PollerOptions } from './agents.js';
export { agentAnswerOf, DropStore, type DropsView, type DropPair, type DropView, type AgentStatus } from './drops.js';
export { fileSource } from './source.js';
export type { ClusterSource, ConnectionState, Snapshot, SourceListener } from './source.js';
export { liveSource, type LiveSource, type LiveSourceOptions } from './live.js';
export { Workspace } from './workspace.js';
export { CONTENT_SECURITY_POLICY, MAX_BODY_BYTES } from './http.js';
