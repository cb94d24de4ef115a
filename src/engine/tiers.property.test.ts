/**
 * The tier-aware engine held to the tier oracle: random mixes of ClusterNetworkPolicy (both tiers),
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy and NetworkPolicy, nodes, host-network pods; every
 * ordered pair of endpoints (pods, outside addresses, domain names), numeric and named ports over TCP and
 * UDP, must get the same verdict from the engine's fast path, its explained path and the naive oracle.
 * The seed is printed; replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DOMAINS, PROBE_PORTS, PROBE_PROTOCOLS, tieredClusterArb } from '../../test/arbitraries.js';
import { domainEndpoint, Engine, externalEndpoint, podEndpoint } from './engine.js';
import { oracleAllows } from './oracle.js';
import { PortSet } from '../policy/index.js';
import type { Endpoint } from './types.js';
import { auditVerdict } from './audit.js';
import { isStaged, staged, withoutStaged } from '../../test/builders.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);

test(`tiered engine agrees with the oracle (seed ${SEED}, replay: NETPOL_SEED=${SEED})`, () => {
  console.log(`tiers property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs tiers.property)`);
  fc.assert(
    fc.property(tieredClusterArb, (c) => {
      const engine = new Engine(c);
      const outside = [...['10.0.0.2', '8.8.8.8', 'fd00::9'].map((t) => externalEndpoint(t) as Endpoint), ...DOMAINS.map((d) => domainEndpoint(d) as Endpoint)];
      const endpoints: Endpoint[] = [...c.pods.map(podEndpoint), ...outside];
      for (const source of endpoints) {
        for (const destination of endpoints) {
          if (source.kind !== 'pod' && destination.kind !== 'pod') continue;
          for (const protocol of PROBE_PROTOCOLS) {
            const anyPort = engine.evaluate({ source, destination, protocol });
            const allowedSet = PortSet.of(anyPort.allowedPorts);
            for (const p of PROBE_PORTS) {
              const t = { source, destination, protocol, port: p };
              const expected = oracleAllows(c, source, destination, protocol, p);
              const where = JSON.stringify({ from: anyPort.from, to: anyPort.to, protocol, p });
              assert.equal(engine.allows(t), expected, `allows() ${where}`);
              const v = engine.evaluate(t);
              assert.equal(v.allowed, expected, `evaluate() ${where}`);
              if (typeof p === 'number') assert.equal(allowedSet.has(p), expected, `allowedPorts of the any-port question ${where}`);
              // The explanation accounts for the asked port exactly once per side that has tiers.
              for (const side of [v.egress, v.ingress]) {
                if (!side.tiers || typeof p !== 'number') continue;
                const covering = side.tiers.decisions.filter((d) => PortSet.of(d.ports).has(p));
                assert.equal(covering.length, 1, `one decision covers port ${p} ${where}`);
                assert.equal(covering[0]!.allowed, side.allowed, `the decision is the side's verdict ${where}`);
              }
            }
          }
        }
      }
    }),
    { numRuns: 150, seed: SEED },
  );
});

test(`audit mode with tiers: the enforced view is the cluster without its staged policies, cluster-scoped or not; the audit view the cluster as written (seed ${SEED})`, () => {
  fc.assert(
    fc.property(tieredClusterArb, fc.array(fc.boolean(), { maxLength: 8 }), fc.array(fc.boolean(), { maxLength: 8 }), (written, which, whichCluster) => {
      const c = staged(written, which, whichCluster);
      const today = withoutStaged(c);
      const engine = new Engine(c);
      const audit = engine.withAudit();
      assert.equal(engine.hasAudit, c.policies.some(isStaged) || (c.clusterPolicies ?? []).some(isStaged));
      const endpoints: Endpoint[] = [...c.pods.map(podEndpoint), externalEndpoint('8.8.8.8')!];
      for (const source of endpoints) {
        for (const destination of endpoints) {
          if (source.kind !== 'pod' && destination.kind !== 'pod') continue;
          for (const protocol of PROBE_PROTOCOLS) {
            for (const port of PROBE_PORTS) {
              const t = { source, destination, protocol, port };
              const v = auditVerdict(engine, t);
              const label = `${v.today.from} -> ${v.today.to} ${protocol}/${port}`;
              assert.equal(engine.allows(t), oracleAllows(today, source, destination, protocol, port), `enforced ${label}`);
              assert.equal(v.today.allowed, engine.allows(t), `enforced, explained ${label}`);
              assert.equal(audit.allows(t), oracleAllows(written, source, destination, protocol, port), `with audit ${label}`);
              assert.equal(v.verdict.allowed, audit.allows(t), `with audit, explained ${label}`);
              // A difference is always put down to some staged policy; agreement to none.
              assert.equal(v.by.length > 0, v.today.allowed !== v.verdict.allowed, `staged policies named ${label}: ${JSON.stringify(v.by)}`);
            }
          }
        }
      }
    }),
    { numRuns: 60, seed: SEED },
  );
});
