/**
 * The agent's view of a live cluster: src/kube's `KubeClusterSource` (list + watch, fail closed) with
 * the agent's reconnect policy and with the cluster-scoped policy kinds, which the agent enforces.
 *
 * - Retries after a failure start at 250 ms and double up to 3 s (`netpol watch` waits up to 30 s): an
 *   API server that comes back is seen again within about 4 s, and the node's rules follow.
 * - A request that receives nothing for 30 s fails and is retried; a watch that outlives its server-side
 *   timeout (drawn from 4-8 min) by 15 s is taken as cut.
 */
import { KubeClient, KubeClusterSource, type KubeSourceEvent, type KubeSourceOptions, type ResolvedConfig } from '../kube/index.js';

export const AGENT_BACKOFF = { firstMs: 250, maxMs: 3_000 } as const;

export function agentClusterSource(kubeConfig: ResolvedConfig, report?: (e: KubeSourceEvent) => void, more: KubeSourceOptions = {}): KubeClusterSource {
  return new KubeClusterSource(new KubeClient(kubeConfig), {
    backoff: AGENT_BACKOFF,
    requestTimeoutMs: 30_000,
    watchTimeoutSeconds: 240,
    clusterScoped: true,
    ...(report ? { report } : {}),
    ...more,
  });
}
