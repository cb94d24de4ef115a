/**
 * `policyNormalizer` (the batch normalisation the scale engine uses) returns what `normalizePolicy`
 * returns, policy by policy, while sharing the compiled selectors, address sets and port lists of
 * equal ones; and port aggregates shared between tables are never changed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizePolicy, policyNormalizer, type Peer } from '../../src/policy/model.js';
import { generateObjects, toCluster } from '../../tools/gen/index.js';
import { PortAgg } from '../../src/scale/ports.js';
import { makePolicy, policySpecArb } from '../arbitraries.js';
import { policy } from '../builders.js';

describe('policyNormalizer', () => {
  test('normalises random policies as normalizePolicy does, one normalizer for all', () => {
    fc.assert(
      fc.property(fc.array(policySpecArb, { minLength: 1, maxLength: 30 }), (specs) => {
        const normalize = policyNormalizer();
        specs.forEach((p, i) => {
          const info = makePolicy(p, `p${i}`);
          assert.deepEqual(normalize(info), normalizePolicy(info));
        });
      }),
      { numRuns: 300 },
    );
  });

  test('normalises the realistic shape as normalizePolicy does', () => {
    const c = toCluster(generateObjects('realistic', { seed: 2, scale: 0.1 }));
    const normalize = policyNormalizer();
    for (const info of c.policies) assert.deepEqual(normalize(info), normalizePolicy(info));
  });

  test('shares equal selectors, address sets and port lists, and keeps unequal ones apart', () => {
    const normalize = policyNormalizer();
    const rule = (app: string, except: string[], port: number | string) => ({
      ingress: [{ from: [{ podSelector: { matchLabels: { app } } }, { ipBlock: { cidr: '10.0.0.0/8', except } }], ports: [{ port }] }],
    });
    const a = normalize(policy('x/a', { podSelector: { matchLabels: { app: 'web' } }, ...rule('db', ['10.1.0.0/16'], 80) }));
    const b = normalize(policy('y/b', { podSelector: { matchLabels: { app: 'web' } }, ...rule('db', ['10.1.0.0/16'], 80) }));
    const c = normalize(policy('x/c', { podSelector: { matchLabels: { app: 'api' } }, ...rule('dbx', ['10.2.0.0/16'], 'http') }));
    const peers = (p: typeof a): readonly Peer[] => p.ingressRules[0]!.peers!;
    const sel = (p: Peer) => (p.kind === 'pods' ? p.pods : undefined);
    const set = (p: Peer) => (p.kind === 'ipBlock' ? p.addresses : undefined);
    assert.equal(a.subject, b.subject);
    assert.notEqual(a.subject, c.subject);
    assert.equal(sel(peers(a)[0]!), sel(peers(b)[0]!));
    assert.notEqual(sel(peers(a)[0]!), sel(peers(c)[0]!));
    assert.equal(set(peers(a)[1]!), set(peers(b)[1]!));
    assert.notEqual(set(peers(a)[1]!), set(peers(c)[1]!));
    assert.equal(a.ingressRules[0]!.ports, b.ingressRules[0]!.ports);
    assert.notEqual(a.ingressRules[0]!.ports, c.ingressRules[0]!.ports);
    // The own namespace of a podSelector-only peer is per policy, never shared.
    const own = peers(b)[0]!;
    assert.deepEqual(own.kind === 'pods' ? own.namespaces : undefined, { kind: 'own', namespace: 'y' });
  });

  test('tells apart selectors that spell the same strings in other places', () => {
    const normalize = policyNormalizer();
    const x = normalize(policy('x/a', { podSelector: { matchLabels: { a: 'b' } } }));
    const y = normalize(policy('x/b', { podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] } }));
    const z = normalize(
      policy('x/c', {
        podSelector: {
          matchExpressions: [
            { key: 'a', operator: 'Exists' },
            { key: 'b', operator: 'Exists' },
          ],
        },
      }),
    );
    const w = normalize(
      policy('x/d', {
        podSelector: {
          matchExpressions: [
            { key: 'a', operator: 'Exists', values: [] },
            { key: 'b', operator: 'Exists' },
          ],
        },
      }),
    );
    assert.deepEqual(x.subject, normalizePolicy(policy('x/a', { podSelector: { matchLabels: { a: 'b' } } })).subject);
    assert.notEqual(x.subject, y.subject);
    assert.equal(y.subject.text, 'a=b');
    assert.equal(z.subject.text, 'a,b');
    assert.deepEqual(w.subject, z.subject);
  });
});

describe('shared port aggregates', () => {
  test('are never changed: a second rule makes a copy', () => {
    const ports = normalizePolicy(policy('x/a', { ingress: [{ ports: [{ port: 80 }] }] })).ingressRules[0]!.ports;
    const shared = PortAgg.of(ports);
    assert.equal(PortAgg.of(ports), shared);
    assert.throws(() => shared.addRule(undefined));
    const more = shared.with([{ index: 0, protocol: 'TCP', port: { kind: 'named', name: 'http' } }]);
    assert.equal(more.shared, false);
    assert.equal(more.named, true);
    assert.equal(shared.named, false);
    assert.notEqual(more.key, shared.key);
    assert.equal(PortAgg.of(undefined).all, true);
  });
});
