/**
 * A live cluster as the server's `ClusterSource`: the list + watch that `netpol watch` and the agent
 * use (src/kube's KubeClusterSource), with the cluster-scoped policy kinds and Nodes too; whole
 * snapshots only.
 *
 * - Nothing is served before the first complete list of every kind. A failure before it that retrying
 *   will not fix (no server, no rights, bad credentials) ends `serve` with the reason, as it ends
 *   `netpol watch`.
 * - After it, each burst of changes is one new snapshot, announced with the objects that changed.
 * - A lost watch is retried with backoff and the last snapshot stays the truth meanwhile; a relist
 *   after 410 Gone delivers what it found as one more snapshot. Listeners hear the connection state:
 *   `reconnecting` (with the failure) from the first failure until every watch is up again.
 * - An object the API server holds that netpol cannot decode makes the snapshot incomplete: it is
 *   shown with that error and not analysed (the picture could be wrong), as the CLI refuses it.
 */
import { hasErrors, type Diagnostic } from '../diag/index.js';
import { KubeClusterSource, type InformerEvent, type KubeClient } from '../kube/index.js';
import type { ClusterSnapshot } from '../model/index.js';
import { isFatalBeforeSync } from '../cli/cluster.js';
import type { ClusterSource, ConnectionState, SourceListener, Snapshot } from './source.js';

export interface LiveSourceOptions {
  /** One namespace, or undefined for all of them. */
  readonly namespace?: string;
  /** What the page shows as the origin (the context's cluster). */
  readonly description: string;
  /** Changes closer together than this are one snapshot (default 100 ms). */
  readonly debounceMs?: number;
}

export interface LiveSource extends ClusterSource {
  stop(): Promise<void>;
}

/** `netpol serve` without `-f`: the cluster of the kubeconfig (or the pod's service account), followed. */
export function liveSource(client: KubeClient, opts: LiveSourceOptions): LiveSource {
  let latest: Snapshot | undefined;
  let first: Promise<Snapshot> | undefined;
  let changes: string[] = [];
  let trouble: string | undefined;
  const listeners = new Set<SourceListener>();
  let fail: (e: Error) => void = () => undefined;

  const connection = (): ConnectionState => (trouble === undefined ? { state: 'connected' } : { state: 'reconnecting', message: trouble });
  const tell = (f: (l: SourceListener) => void): void => {
    for (const l of listeners) f(l);
  };

  const source: KubeClusterSource = new KubeClusterSource(client, {
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    clusterScoped: true,
    debounceMs: opts.debounceMs ?? 100,
    onEvent: (e) => changes.push(describe(e)),
    onError: (kind, e, retryInMs) => {
      if (latest === undefined && isFatalBeforeSync(e)) return fail(e);
      const wasUp = trouble === undefined;
      trouble = `watching ${kind}s: ${e.message}; retrying in ${(retryInMs / 1000).toFixed(1)} s`;
      if (wasUp) tell((l) => l.connection?.(connection()));
    },
    report: (e) => {
      if (e.kind !== 'resolved' || trouble === undefined || !source.stats().connected) return;
      trouble = undefined;
      tell((l) => l.connection?.(connection()));
    },
  });

  const snapshotOf = (s: ClusterSnapshot): Snapshot => {
    const diagnostics: Diagnostic[] = [...s.diagnostics];
    if (s.incomplete) diagnostics.push({ severity: 'error', code: 'IncompleteSnapshot', message: `netpol ${s.incomplete} that the API server holds: nothing is analysed while they are there` });
    return { cluster: s.cluster, diagnostics, sources: [], invalid: hasErrors(diagnostics) };
  };

  return {
    description: opts.description,
    read(): Promise<Snapshot> {
      first ??= new Promise<Snapshot>((resolve, reject) => {
        fail = (e) => {
          reject(e);
          void source.stop();
        };
        source
          .start((s) => {
            const next = snapshotOf(s);
            const announced = latest !== undefined;
            latest = next;
            if (!announced) return resolve(next);
            const what = changes;
            changes = [];
            tell((l) => l.snapshot(what));
          })
          .catch((e: unknown) => reject(e as Error));
      });
      return latest ? Promise.resolve(latest) : first;
    },
    watch(listener: SourceListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connection,
    stop: () => source.stop(),
  };
}

/** `NetworkPolicy three-tier/deny created`: one line per changed object (names are untrusted text). */
function describe(e: InformerEvent): string {
  const action = e.old === undefined ? 'created' : e.current === undefined ? 'deleted' : 'changed';
  return `${e.kind} ${e.key} ${action}`;
}
