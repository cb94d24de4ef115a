import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressSet, cidrContains, formatCIDR, maxAddress, parseCIDR, parseIP } from './index.js';
import type { CIDR, Family, Interval } from './index.js';

const cidr = (text: string): CIDR => {
  const c = parseCIDR(text);
  assert.ok(c, text);
  return c;
};
const set = (...texts: string[]): AddressSet => AddressSet.unionAll(texts.map((t) => AddressSet.fromCIDR(cidr(t))));
const ip = (text: string) => {
  const a = parseIP(text);
  assert.ok(a, text);
  return a;
};

describe('AddressSet basics', () => {
  test('empty and all', () => {
    assert.equal(AddressSet.empty().isEmpty(), true);
    assert.equal(AddressSet.all().isEmpty(), false);
    assert.equal(AddressSet.all().contains(ip('0.0.0.0')), true);
    assert.equal(AddressSet.all().contains(ip('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')), true);
    assert.deepEqual(AddressSet.all().toCIDRs().map(formatCIDR), ['0.0.0.0/0', '::/0']);
    assert.deepEqual(AddressSet.empty().toCIDRs(), []);
  });

  test('ipBlock-style cidr minus except', () => {
    const block = set('10.0.0.0/8').subtract(set('10.1.0.0/16', '10.2.3.4/32'));
    assert.equal(block.contains(ip('10.0.0.1')), true);
    assert.equal(block.contains(ip('10.1.200.3')), false);
    assert.equal(block.contains(ip('10.2.3.4')), false);
    assert.equal(block.contains(ip('10.2.3.5')), true);
    assert.equal(block.contains(ip('::ffff:10.2.3.5')), true);
    assert.equal(block.contains(ip('11.0.0.0')), false);
    assert.deepEqual(block.intervals(6), []);
  });

  test('adjacent blocks merge into one interval and one CIDR', () => {
    const s = set('10.0.0.0/25', '10.0.0.128/25');
    assert.equal(s.intervals(4).length, 1);
    assert.deepEqual(s.toCIDRs().map(formatCIDR), ['10.0.0.0/24']);
  });

  test('toCIDRs of a /8 minus its first address is the 24 blocks of a binary split', () => {
    const cidrs = set('10.0.0.0/8').subtract(set('10.0.0.0/32')).toCIDRs().map(formatCIDR);
    assert.equal(cidrs.length, 24);
    assert.equal(cidrs[0], '10.0.0.1/32');
    assert.equal(cidrs[1], '10.0.0.2/31');
    assert.equal(cidrs[23], '10.128.0.0/9');
  });

  test('IPv6 and IPv4 stay apart', () => {
    const s = set('::/0');
    assert.equal(s.contains(ip('1.2.3.4')), false);
    assert.equal(s.contains(ip('2001:db8::1')), true);
    assert.equal(s.size(4), 0n);
    assert.equal(s.size(6), 1n << 128n);
  });

  test('fromIP and fromIntervals', () => {
    assert.deepEqual(AddressSet.fromIP(ip('1.2.3.4')).toCIDRs().map(formatCIDR), ['1.2.3.4/32']);
    const s = AddressSet.fromIntervals(4, [
      [5n, 9n],
      [-3n, 2n],
      [3n, 4n],
      [maxAddress(4), maxAddress(4) + 10n],
    ]);
    assert.deepEqual(s.intervals(4), [
      [0n, 9n],
      [maxAddress(4), maxAddress(4)],
    ]);
  });
});

// ---- properties against a naive model ----

/** A set described by the intervals it was built from: membership is "some interval contains it". */
interface Model {
  readonly family: Family;
  readonly parts: readonly Interval[];
}

const naiveHas = (m: Model, v: bigint): boolean => m.parts.some(([lo, hi]) => lo <= v && v <= hi);

/** Small universes make overlaps and adjacency likely; large ones exercise the full width. */
function modelArb(family: Family): fc.Arbitrary<Model> {
  const max = maxAddress(family);
  const point = fc.oneof(
    { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 64n }) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max }) },
    { weight: 1, arbitrary: fc.constantFrom(0n, max, max - 1n) },
  );
  const interval = fc.tuple(point, point).map(([a, b]): Interval => (a <= b ? [a, b] : [b, a]));
  return fc.array(interval, { maxLength: 6 }).map((parts) => ({ family, parts }));
}

const toSet = (m: Model): AddressSet => AddressSet.fromIntervals(m.family, m.parts);

/** Interesting probe points: every boundary and its neighbours, plus a few random ones. */
function probes(models: Model[], extra: bigint[]): bigint[] {
  const family = models[0]?.family ?? 4;
  const max = maxAddress(family);
  const out = new Set<bigint>([0n, max, ...extra.map((v) => v % (max + 1n))]);
  for (const m of models) {
    for (const [lo, hi] of m.parts) {
      for (const v of [lo - 1n, lo, lo + 1n, hi - 1n, hi, hi + 1n]) if (v >= 0n && v <= max) out.add(v);
    }
  }
  return [...out];
}

const fam = fc.constantFrom<Family>(4, 6);
const three = fam.chain((f) => fc.tuple(modelArb(f), modelArb(f), modelArb(f)));
const randomPoints = fc.array(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), { maxLength: 4 });

function canonical(s: AddressSet, f: Family): void {
  const iv = s.intervals(f);
  for (let k = 0; k < iv.length; k++) {
    const [lo, hi] = iv[k] as Interval;
    assert.ok(lo <= hi);
    assert.ok(lo >= 0n && hi <= maxAddress(f));
    if (k > 0) assert.ok((iv[k - 1] as Interval)[1] + 1n < lo, 'sorted, disjoint and non-adjacent');
  }
}

describe('AddressSet properties', () => {
  test('membership of union, intersection and difference matches the naive model', () => {
    fc.assert(
      fc.property(three, randomPoints, ([a, b], extra) => {
        const A = toSet(a);
        const B = toSet(b);
        const U = A.union(B);
        const I = A.intersect(B);
        const D = A.subtract(B);
        for (const s of [A, B, U, I, D]) canonical(s, a.family);
        for (const v of probes([a, b], extra)) {
          const p = { family: a.family, value: v };
          const inA = naiveHas(a, v);
          const inB = naiveHas(b, v);
          assert.equal(A.contains(p), inA);
          assert.equal(U.contains(p), inA || inB);
          assert.equal(I.contains(p), inA && inB);
          assert.equal(D.contains(p), inA && !inB);
          // The other family is untouched.
          assert.equal(U.contains({ family: a.family === 4 ? 6 : 4, value: v }), false);
        }
      }),
    );
  });

  test('set algebra laws', () => {
    fc.assert(
      fc.property(three, ([a, b, c]) => {
        const A = toSet(a);
        const B = toSet(b);
        const C = toSet(c);
        assert.ok(A.union(B).equals(B.union(A)));
        assert.ok(A.intersect(B).equals(B.intersect(A)));
        assert.ok(A.subtract(B).intersect(B).isEmpty());
        assert.ok(A.subtract(B).union(A.intersect(B)).equals(A));
        assert.ok(A.subtract(B.union(C)).equals(A.subtract(B).subtract(C)));
        assert.ok(A.intersect(B.union(C)).equals(A.intersect(B).union(A.intersect(C))));
        assert.ok(A.union(AddressSet.empty()).equals(A));
        assert.ok(A.intersect(AddressSet.all()).equals(A));
        assert.ok(AddressSet.all().subtract(AddressSet.all().subtract(A)).equals(A));
        assert.ok(A.subtract(A).isEmpty());
        assert.equal(A.isSubsetOf(A.union(B)), true);
      }),
    );
  });

  test('toCIDRs covers exactly the set, with disjoint aligned blocks that cannot be merged', () => {
    fc.assert(
      fc.property(fam.chain(modelArb), randomPoints, (m, extra) => {
        const S = toSet(m);
        const cidrs = S.toCIDRs();
        const back = AddressSet.unionAll(cidrs.map((c) => AddressSet.fromCIDR(c)));
        assert.ok(back.equals(S));
        const total = cidrs.reduce((n, c) => n + (1n << BigInt((m.family === 4 ? 32 : 128) - c.prefix)), 0n);
        assert.equal(total, S.size(m.family), 'blocks are disjoint');
        for (const c of cidrs) assert.deepEqual(parseCIDR(formatCIDR(c)), c, 'base is aligned');
        // Minimality: no two consecutive blocks are the two halves of a larger block.
        for (let k = 1; k < cidrs.length; k++) {
          const x = cidrs[k - 1] as CIDR;
          const y = cidrs[k] as CIDR;
          if (x.prefix === y.prefix && x.prefix > 0) {
            const size = 1n << BigInt((m.family === 4 ? 32 : 128) - x.prefix);
            const mergeable = x.base + size === y.base && x.base % (size * 2n) === 0n;
            assert.equal(mergeable, false, `${formatCIDR(x)} + ${formatCIDR(y)}`);
          }
        }
        for (const v of probes([m], extra)) {
          const p = { family: m.family, value: v };
          assert.equal(
            cidrs.some((c) => cidrContains(c, p)),
            naiveHas(m, v),
          );
        }
      }),
    );
  });

  test('toCIDRs of a single interval is no longer than a brute-force optimum (small universe)', () => {
    // Brute force: the fewest aligned blocks covering [lo, hi] exactly, by dynamic programming.
    const best = (lo: number, hi: number): number => {
      const dp = new Array<number>(hi + 2).fill(Infinity);
      dp[lo] = 0;
      for (let x = lo; x <= hi; x++) {
        const here = dp[x] as number;
        for (let size = 1; x + size - 1 <= hi; size *= 2) {
          if (x % size !== 0) break;
          dp[x + size] = Math.min(dp[x + size] as number, here + 1);
        }
      }
      return dp[hi + 1] as number;
    };
    fc.assert(
      fc.property(fc.nat(300), fc.nat(300), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const cidrs = AddressSet.fromIntervals(4, [[BigInt(lo), BigInt(hi)]]).toCIDRs();
        assert.equal(cidrs.length, best(lo, hi));
      }),
    );
  });
});
