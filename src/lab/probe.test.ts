import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, pod } from '../../test/builders.js';
import { planLab } from './plan.js';
import { planProbes, reachabilityOf, type ConnectionResult } from './probe.js';
import { LabError } from './exec.js';
import { initialListeners } from './pods.js';

const http = { name: 'http', port: 8080, protocol: 'TCP' as const };

describe('planProbes', () => {
  const { layout } = planLab(cluster({ pods: [pod('x/a', {}, { ports: [http] }), pod('x/b')] }), { id: 't1' });

  test('every ordered pair, self included, once per shared family', () => {
    const plan = planProbes(layout, [{ port: 80, protocol: 'TCP' }]);
    assert.deepEqual(
      plan.tasks.map((t) => [t.from, t.to, t.host]),
      [
        [0, 0, '10.244.0.1'],
        [1, 0, '10.244.0.1'],
        [0, 1, '10.244.0.2'],
        [1, 1, '10.244.0.2'],
      ],
    );
    // Each destination listens on the probed port, so a denial never means "nothing listening".
    assert.deepEqual(plan.listeners.get(1), [{ port: 80, protocol: 'TCP' }]);
  });

  test('a named port resolves per destination; where it is undefined, the stand-in port is probed', () => {
    const plan = planProbes(layout, [{ port: 'http', protocol: 'TCP' }]);
    assert.deepEqual(
      plan.tasks.filter((t) => t.from === 0).map((t) => [t.to, t.port, t.standIn]),
      [
        [0, 8080, false],
        [1, layout.unnamedPort, true],
      ],
    );
    // Name and protocol must both match: there is no UDP port named http.
    assert.ok(planProbes(layout, [{ port: 'http', protocol: 'UDP' }]).tasks.every((t) => t.standIn));
  });

  test('SCTP and bad port numbers are refused with a LabError', () => {
    assert.throws(
      () => planProbes(layout, [{ port: 80, protocol: 'SCTP' }]),
      (e: unknown) => e instanceof LabError && e.code === 'probe',
    );
    assert.throws(() => planProbes(layout, [{ port: 0, protocol: 'TCP' }]), LabError);
    assert.throws(() => planProbes(layout, [{ port: 70000, protocol: 'UDP' }]), LabError);
  });

  test('pods always listen on their container ports and the stand-in port, TCP and UDP', () => {
    const a = layout.pods[0]!;
    assert.deepEqual(initialListeners(layout, a), [
      { port: 8080, protocol: 'TCP' },
      { port: 8080, protocol: 'UDP' },
      { port: layout.unnamedPort!, protocol: 'TCP' },
      { port: layout.unnamedPort!, protocol: 'UDP' },
    ]);
  });
});

describe('reachabilityOf', () => {
  test('a dual-stack pair is allowed only when every family connects; no shared family is denied', () => {
    const c = cluster({
      pods: [pod('x/a', {}, { ips: ['10.0.0.1', 'fd00::1'] }), pod('x/b', {}, { ips: ['10.0.0.2', 'fd00::2'] }), pod('x/c', {}, { ips: ['fd00::3'] }), pod('x/d', {}, { ips: ['10.0.0.4'] })],
    });
    const { layout } = planLab(c, { id: 't1' });
    const probes = [{ port: 80, protocol: 'TCP' as const }];
    const plan = planProbes(layout, probes);
    const results: ConnectionResult[] = plan.tasks.map((t) => (t.from === 0 && t.to === 1 && t.family === 6 ? 'timeout' : t.host === undefined ? 'no-common-family' : 'connected'));
    const r = reachabilityOf(layout, probes, plan.tasks, results);
    assert.deepEqual(r.pods, ['x/a', 'x/b', 'x/c', 'x/d']);
    assert.deepEqual(r.probes[0]!.allowed, [
      [true, false, true, true],
      [true, true, true, true],
      [true, true, true, false],
      [true, true, false, true],
    ]);
    assert.deepEqual(r.probes[0]!.port, 80);
  });
});
