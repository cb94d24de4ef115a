/** A `ClusterSource` the test drives by hand: the first snapshot at start, then one per `push`. */
import type { ClusterSnapshot, ClusterSource } from '../../src/agent/source.js';

export class ManualSource implements ClusterSource {
  private cb: ((s: ClusterSnapshot) => void | Promise<void>) | undefined;
  private generation = 0;
  constructor(private first: ClusterSnapshot['cluster']) {}
  async start(cb: (s: ClusterSnapshot) => void | Promise<void>) {
    this.cb = cb;
    await this.push(this.first);
  }
  async push(c: ClusterSnapshot['cluster'], diagnostics: ClusterSnapshot['diagnostics'] = [], incomplete?: string) {
    await this.cb?.({ cluster: c, diagnostics, generation: ++this.generation, ...(incomplete ? { incomplete } : {}) });
  }
  async stop() {}
}
