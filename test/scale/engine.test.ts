/** The class-based engine's API on small, intent-named clusters. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScaleEngine } from '../../src/scale/index.js';
import { loadClusterFast } from '../../src/load/index.js';
import { externalEndpoint, podEndpoint } from '../../src/engine/engine.js';
import type { Endpoint } from '../../src/engine/types.js';
import { cluster, namespace, pod, policy } from '../builders.js';

const web = (n: number) => pod(`shop/web-${n}`, { app: 'web' }, { ips: [`10.0.0.${n}`], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
const db = pod('shop/db-0', { app: 'db' }, { ips: ['10.0.1.1'], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
const dbOnlyFromWeb = policy('shop/db', {
  podSelector: { matchLabels: { app: 'db' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'pg' }] }],
});

describe('ScaleEngine', () => {
  test('replicas with the same labels, ports and ipBlock membership share a class', () => {
    const e = new ScaleEngine(cluster({ namespaces: [namespace('shop')], pods: [web(1), web(2), web(3), db], policies: [dbOnlyFromWeb] }));
    assert.equal(e.stats.pods, 4);
    assert.equal(e.stats.classes, 2);
    assert.equal(e.classOf(e.pod('shop/web-1')!), e.classOf(e.pod('shop/web-3')!));
    assert.equal(e.pod('shop/nope'), undefined);
  });

  test('an ipBlock that cuts the replicas apart splits their class, before or after loading', () => {
    const cut = policy('shop/egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.0.2/32'] } }] }] });
    const before = new ScaleEngine(cluster({ pods: [web(1), web(2), web(3), db], policies: [cut] }));
    assert.notEqual(before.classOf(before.pod('shop/web-1')!), before.classOf(before.pod('shop/web-2')!));
    const after = new ScaleEngine(cluster({ pods: [web(1), web(2), web(3), db] }));
    const probe = { port: 'http', protocol: 'TCP' as const };
    assert.equal(after.allowedPairs(probe), 12);
    after.upsertPolicy(cut);
    assert.equal(after.classOf(after.pod('shop/web-1')!), after.classOf(after.pod('shop/web-3')!));
    assert.notEqual(after.classOf(after.pod('shop/web-1')!), after.classOf(after.pod('shop/web-2')!));
    // Every pod may reach web-1 and web-3 only (egress isolated): 4 sources x 2 destinations - 2 self pairs.
    assert.equal(after.allowedPairs(probe), 6);
  });

  test('verdicts: named ports resolve on the destination; self is always allowed', () => {
    const e = new ScaleEngine(cluster({ pods: [web(1), db], policies: [dbOnlyFromWeb] }));
    const w = e.pod('shop/web-1')!;
    const d = e.pod('shop/db-0')!;
    assert.equal(e.allows(w, d, { port: 5432, protocol: 'TCP' }), true);
    assert.equal(e.allows(w, d, { port: 'pg', protocol: 'TCP' }), true);
    assert.equal(e.allows(w, d, { port: 5433, protocol: 'TCP' }), false);
    assert.equal(e.allows(d, d, { port: 1, protocol: 'UDP' }), true);
    assert.deepEqual(e.admittedPorts(w, d, 'TCP').ranges, [[5432, 5432]]);
    assert.equal(e.reachableCount(w, { port: 5432, protocol: 'TCP' }), 1);
    assert.equal(e.reachingCount(d, { port: 5432, protocol: 'TCP' }), 1);
    assert.deepEqual(e.destinations(w, { port: 'pg', protocol: 'TCP' }), [d]);
  });

  test('traffic with addresses outside the cluster is decided by the pod side alone', () => {
    const fromOffice = policy('shop/office', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16' } }] }] });
    const e = new ScaleEngine(cluster({ pods: [web(1)], policies: [fromOffice] }));
    const w: Endpoint = podEndpoint(e.pod('shop/web-1')!);
    const office = externalEndpoint('192.168.4.4')!;
    const internet = externalEndpoint('8.8.8.8')!;
    assert.equal(e.allowsTraffic({ source: office, destination: w, protocol: 'TCP', port: 8080 }), true);
    assert.equal(e.allowsTraffic({ source: internet, destination: w, protocol: 'TCP', port: 8080 }), false);
    assert.equal(e.allowsTraffic({ source: w, destination: internet, protocol: 'TCP' }), true);
  });

  test('changes: pods and policies come and go; counts follow', () => {
    const e = new ScaleEngine(cluster({ pods: [web(1), db] }));
    const probe = { port: 5432, protocol: 'TCP' as const };
    assert.equal(e.allowedPairs(probe), 2);
    e.apply({ kind: 'upsertPolicy', policy: dbOnlyFromWeb });
    assert.equal(e.allowedPairs(probe), 2);
    e.apply({ kind: 'addPod', pod: pod('other/x', {}) }); // a namespace nobody declared
    assert.equal(e.allowedPairs(probe), 2 + 2 + 1); // x reaches both and web reaches x; x cannot reach db
    const w = e.pod('shop/web-1')!;
    e.apply({ kind: 'setPodLabels', pod: w, labels: { app: 'cache' } });
    assert.equal(e.allowedPairs(probe), 4);
    e.apply({ kind: 'removePolicy', namespace: 'shop', name: 'db' });
    assert.equal(e.allowedPairs(probe), 6);
    assert.equal(e.removePolicy('shop', 'db'), false);
    assert.equal(e.removePod(w), false); // replaced by the relabelled pod
    assert.throws(() => e.allows(w, e.pod('shop/db-0')!, probe), /not loaded/);
  });

  test('reports progress while building and counting', () => {
    const calls: string[] = [];
    const e = new ScaleEngine(cluster({ pods: [web(1), web(2), db], policies: [dbOnlyFromWeb] }), {
      progress: (phase, done, total) => {
        if (done === total) calls.push(phase);
      },
    });
    e.allowedPairs({ port: 80, protocol: 'TCP' });
    assert.deepEqual(calls, ['policies', 'pods', 'peers', 'groups', 'count']);
    const files: number[] = [];
    loadClusterFast(
      [
        { file: 'a.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n' },
        { file: 'b.yaml', text: '' },
      ],
      { progress: (d) => files.push(d) },
    );
    assert.deepEqual(files, [1, 2]);
  });
});

test('whole counts use the free sources of each destination profile, not of the first profile met (regression)', () => {
  // Found by the property test: z/p0 (in the ipBlock) may reach z/p1 on its named port http; the ingress
  // rule has no ports, so both destination profiles (with and without http) share one admit set, and
  // the free sources computed for the profile without http were reused for the one with it.
  const c = cluster({
    namespaces: [namespace('x'), namespace('y'), namespace('z')],
    pods: [pod('z/p0', {}, { ips: ['fd00::5'] }), pod('z/p1', {}, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }), pod('x/p2')],
    policies: [policy('z/np0', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/64', except: [] } }] }], egress: [{ ports: [{ port: 'http' }] }] })],
  });
  const probe = { port: 8080, protocol: 'TCP' } as const;
  for (const strategy of ['auto', 'candidates', 'scan', 'complement', 'dense'] as const) {
    const e = new ScaleEngine(c, { strategy });
    assert.equal(e.allowedPairs(probe), 1, strategy);
    assert.deepEqual(e.namespaceCounts(probe).cells, [[2, 2, 1]], strategy);
  }
});
