/**
 * The engine held to the oracle: random namespaces, pods and policies on the namespaces x, y, z; every
 * ordered pair of endpoints (pods and a few outside addresses), for numeric and named ports over TCP and
 * UDP, must get the same verdict from the engine's fast path, its explained path and the naive oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clusterArb, PROBE_PORTS, PROBE_PROTOCOLS } from '../../test/arbitraries.js';
import { Engine, externalEndpoint, podEndpoint } from './engine.js';
import { oracleAllows } from './oracle.js';
import { PortSet } from '../policy/index.js';
import type { Endpoint } from './types.js';
import { isStaged, staged } from '../../test/builders.js';

test('engine agrees with the oracle on every pair, port and protocol', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const engine = new Engine(c);
      const outside = ['10.0.0.2', '8.8.8.8', 'fd00::9'].map((t) => externalEndpoint(t) as Endpoint);
      const endpoints: Endpoint[] = [...c.pods.map(podEndpoint), ...outside];
      for (const source of endpoints) {
        for (const destination of endpoints) {
          if (source.kind === 'external' && destination.kind === 'external') continue;
          for (const protocol of PROBE_PROTOCOLS) {
            const anyPort = engine.evaluate({ source, destination, protocol });
            const allowedSet = PortSet.of(anyPort.allowedPorts);
            for (const p of PROBE_PORTS) {
              const t = { source, destination, protocol, port: p };
              const expected = oracleAllows(c, source, destination, protocol, p);
              assert.equal(engine.allows(t), expected, `allows() ${JSON.stringify({ from: anyPort.from, to: anyPort.to, protocol, p })}`);
              assert.equal(engine.evaluate(t).allowed, expected, 'evaluate()');
              if (typeof p === 'number') assert.equal(allowedSet.has(p), expected, 'allowedPorts of the any-port question');
            }
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('audit mode: the enforced view is the cluster without its staged policies, the audit view the cluster as written', () => {
  fc.assert(
    fc.property(clusterArb, fc.array(fc.boolean(), { maxLength: 8 }), (written, which) => {
      const c = staged(written, which);
      const withoutStaged = { ...c, policies: c.policies.filter((p) => !isStaged(p)) };
      const engine = new Engine(c);
      const audit = engine.withAudit();
      assert.equal(engine.hasAudit, c.policies.some(isStaged));
      const endpoints: Endpoint[] = [...c.pods.map(podEndpoint), externalEndpoint('8.8.8.8')!];
      for (const source of endpoints) {
        for (const destination of endpoints) {
          if (source.kind === 'external' && destination.kind === 'external') continue;
          for (const protocol of PROBE_PROTOCOLS) {
            for (const port of PROBE_PORTS) {
              const t = { source, destination, protocol, port };
              const label = `${engine.evaluate(t).from} -> ${engine.evaluate(t).to} ${protocol}/${port}`;
              assert.equal(engine.allows(t), oracleAllows(withoutStaged, source, destination, protocol, port), `enforced ${label}`);
              assert.equal(audit.allows(t), oracleAllows(written, source, destination, protocol, port), `with audit ${label}`);
              assert.equal(audit.evaluate(t).allowed, audit.allows(t), `explained with audit ${label}`);
            }
          }
        }
      }
    }),
    { numRuns: 150 },
  );
});
