/**
 * Texts the fast YAML reader has met before (keys, scalars), found again by their position in the text
 * without building a string: a small fixed-size hash table per load (see `SpanCache`).
 */

export const MISS: unique symbol = Symbol('miss');
const CACHE_BUCKETS = 1 << 13;
const CACHE_MAX_LENGTH = 64;
const CACHE_PER_BUCKET = 4;

/**
 * Texts read before, found again without building a string. Keys and scalars repeat across thousands
 * of objects (`apiVersion`, `matchLabels`, a namespace's name, a CIDR): each is read (and checked)
 * once, then the same string or value is handed out again, which also makes it a fast property key.
 * The value stored for a text must depend on nothing but that text.
 */
export class SpanCache<V> {
  /** Slot k * CACHE_PER_BUCKET + i: hash, length, and where the text was first read (to compare). */
  private readonly hashes = new Int32Array(CACHE_BUCKETS * CACHE_PER_BUCKET);
  private readonly lengths = new Int32Array(CACHE_BUCKETS * CACHE_PER_BUCKET);
  private readonly offsets = new Int32Array(CACHE_BUCKETS * CACHE_PER_BUCKET);
  private readonly sources: string[] = new Array<string>(CACHE_BUCKETS * CACHE_PER_BUCKET).fill('');
  private readonly values: (V | undefined)[] = new Array<V | undefined>(CACHE_BUCKETS * CACHE_PER_BUCKET).fill(undefined);
  private readonly used = new Uint8Array(CACHE_BUCKETS);
  /** In a full bucket, the slot replaced next. */
  private readonly next = new Uint8Array(CACHE_BUCKETS);

  private static hash(t: string, a: number, b: number): number {
    const n = b - a;
    let h = n;
    h = (h * 31 + t.charCodeAt(a)) | 0;
    h = (h * 31 + t.charCodeAt(a + 1)) | 0;
    h = (h * 31 + t.charCodeAt(a + (n >> 1))) | 0;
    h = (h * 31 + t.charCodeAt(b - 2)) | 0;
    h = (h * 31 + t.charCodeAt(b - 1)) | 0;
    return h ^ (h >>> 13);
  }

  /** The value stored for the text t[a, b), or MISS. */
  get(t: string, a: number, b: number): V | typeof MISS {
    const n = b - a;
    if (n < 2 || n > CACHE_MAX_LENGTH) return MISS;
    const h = SpanCache.hash(t, a, b);
    const k = h & (CACHE_BUCKETS - 1);
    const end = k * CACHE_PER_BUCKET + this.used[k]!;
    next: for (let slot = k * CACHE_PER_BUCKET; slot < end; slot++) {
      if (this.hashes[slot] !== h || this.lengths[slot] !== n) continue;
      const src = this.sources[slot]!;
      const o = this.offsets[slot]!;
      for (let j = 0; j < n; j++) if (src.charCodeAt(o + j) !== t.charCodeAt(a + j)) continue next;
      return this.values[slot] as V;
    }
    return MISS;
  }

  /**
   * Remembers `value` for the text t[a, b); a full bucket gives up its oldest text (texts that repeat do
   * so nearby: a namespace's name in its objects, an address in podIP and podIPs, so the recent ones are
   * kept rather than the first ones met, which in a large file are mostly names met once).
   */
  set(t: string, a: number, b: number, value: V): void {
    const n = b - a;
    if (n < 2 || n > CACHE_MAX_LENGTH) return;
    const h = SpanCache.hash(t, a, b);
    const k = h & (CACHE_BUCKETS - 1);
    const i = this.used[k]!;
    let slot: number;
    if (i < CACHE_PER_BUCKET) {
      slot = k * CACHE_PER_BUCKET + i;
      this.used[k] = i + 1;
    } else {
      const r = this.next[k]!;
      slot = k * CACHE_PER_BUCKET + r;
      this.next[k] = (r + 1) % CACHE_PER_BUCKET;
    }
    this.hashes[slot] = h;
    this.lengths[slot] = n;
    this.offsets[slot] = a;
    this.sources[slot] = t;
    this.values[slot] = value;
  }
}

/** What one load shares between its files: keys checked, and scalars resolved. */
export class ScalarCache {
  readonly keys = new SpanCache<string>();
  readonly values = new SpanCache<unknown>();
}
