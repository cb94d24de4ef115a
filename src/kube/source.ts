/**
 * The live cluster as a `ClusterSource` (the agent's seam, src/agent/source.ts): whole snapshots from
 * list + watch (ClusterInformer), never a partial list.
 *
 * - Nothing is delivered until the first complete list of all three kinds (Namespaces, Pods,
 *   NetworkPolicies) has arrived: a consumer never sees a cluster with the pods but not yet the
 *   policies (which would be an allow window for an enforcer).
 * - After that, one snapshot per burst of changes: changes arriving while a snapshot is being
 *   consumed are folded into the next one (deliveries are serialised, never concurrent).
 * - Losing the API server delivers nothing: the last snapshot stays the truth until the watch is
 *   back (errors go to `onError`, with the retry delay), and a relist after 410 Gone delivers the
 *   differences it found as one more snapshot.
 * Unchanged objects keep their identity from one snapshot to the next (the informer stores them
 * converted), which consumers that compare by identity (the node compiler) rely on.
 */
import type { ClusterSnapshot, ClusterSource } from '../agent/index.js';
import type { KubeClient } from './client.js';
import { ClusterInformer, type InformerEvent, type InformerOptions, type ObjectKind } from './informer.js';

export interface KubeSourceOptions extends InformerOptions {
  /** Changes closer together than this are delivered as one snapshot (default 0: the next turn of the event loop). */
  readonly debounceMs?: number;
  readonly onError?: (kind: ObjectKind, e: Error, retryInMs: number) => void;
  readonly onWatchRestart?: (kind: ObjectKind, reason: 'timeout' | 'gone' | 'error') => void;
  /** Every change, as it arrives (before the snapshot that includes it). */
  readonly onEvent?: (e: InformerEvent) => void;
}

export class KubeClusterSource implements ClusterSource {
  private informer: ClusterInformer | undefined;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private release: (() => void) | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: KubeSourceOptions = {},
  ) {}

  /** Resolves once the first snapshot has been delivered (or the source is stopped before that). */
  async start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void> {
    const deliver = async (): Promise<void> => {
      const informer = this.informer;
      if (this.stopped || !informer) return;
      this.generation++;
      await onSnapshot({ cluster: informer.cluster(), diagnostics: informer.diagnostics(), generation: this.generation });
    };
    const first = new Promise<void>((resolve) => (this.release = resolve));
    this.informer = new ClusterInformer(this.client, this.opts, {
      onSynced: () => {
        this.running = this.running.then(deliver).finally(() => this.release?.());
      },
      onEvent: (e) => {
        this.opts.onEvent?.(e);
        this.schedule(deliver);
      },
      onError: (kind, e, ms) => this.opts.onError?.(kind, e, ms),
      onWatchRestart: (kind, reason) => this.opts.onWatchRestart?.(kind, reason),
    });
    this.informer.start();
    await first;
    await this.running;
  }

  private schedule(deliver: () => Promise<void>): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(deliver, deliver);
    }, this.opts.debounceMs ?? 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.release?.();
    await this.informer?.stop();
    await this.running.catch(() => undefined);
  }
}
