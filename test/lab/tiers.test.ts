/**
 * Cluster-scoped policies on real packets, enforced by real agents: examples/admin-guardrails in a
 * two-node lab where each node runs `netpol agent -f DIR` (the operator's configuration), every ordered
 * pair of pods probed over TCP and UDP; the kernel must agree with the engine on every pair, including the
 * example's claims, before and after an Admin tier policy is removed (the agents' incremental update).
 * Then the same from a cluster: agents in cluster mode (deploy/'s ServiceAccount) on a real API server,
 * the CRDs and the example's policies created with kubectl while they run.
 * Needs root, ip, nft and conntrack (and the control plane binaries for the second); skipped with the
 * reason printed otherwise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, reachability, sortPods, type Probe, type Reachability } from '../../src/engine/index.js';
import { loadCluster } from '../../src/load/index.js';
import type { Cluster } from '../../src/model/index.js';
import { kubeEnforcer, labManifests } from '../../src/lab/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { agentClusterSource } from '../../src/agent/kube-source.js';
import type { ClusterSnapshot } from '../../src/model/index.js';
import { controlPlaneSkip, kubectl } from '../kube/helpers.js';
import { agentLabSkip, withAgentLab, withLab } from './helpers.js';

const skip = agentLabSkip();
if (skip) console.log(`# skipping the cluster-policy lab tests: ${skip}`);

const EXAMPLE = fileURLToPath(new URL('../../examples/admin-guardrails/', import.meta.url));
const CRDS = fileURLToPath(new URL('../apiserver/crds/', import.meta.url));
const PROBES: Probe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 5432, protocol: 'TCP' },
  { port: 'metrics', protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
];

function example(): Cluster {
  const files = readdirSync(EXAMPLE).filter((f) => f.endsWith('.yaml'));
  const { cluster, diagnostics } = loadCluster(files.map((f) => ({ file: f, text: readFileSync(join(EXAMPLE, f), 'utf8') })));
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return cluster;
}

function allowed(r: Reachability, probe: number, from: string, to: string): boolean {
  return r.probes[probe]!.allowed[r.pods.indexOf(from)]![r.pods.indexOf(to)]!;
}

/** Pairs where the kernel and the engine disagree. */
function disagreements(kernel: Reachability, engine: Reachability): string[] {
  const out: string[] = [];
  kernel.probes.forEach((p, k) =>
    kernel.pods.forEach((from, i) =>
      kernel.pods.forEach((to, j) => {
        if (p.allowed[i]![j] !== engine.probes[k]!.allowed[i]![j]) out.push(`${from} -> ${to} ${p.protocol}/${p.port}: kernel ${p.allowed[i]![j]}, engine ${engine.probes[k]!.allowed[i]![j]}`);
      }),
    ),
  );
  return out;
}

describe('cluster-scoped policies in the lab, enforced by netpol agent from files', { skip }, () => {
  test('examples/admin-guardrails: every pair as the engine says, the claims hold, and removing an Admin policy takes effect', async () => {
    await withAgentLab('tg', example(), { denyAction: 'drop' }, async (lab, enforcer) => {
      const engineOf = (cluster: Cluster) => reachability(new Engine(cluster), sortPods(cluster.pods), PROBES);
      const first = (await lab.probe(PROBES, { tcpTimeoutMs: 800, udpTimeoutMs: 800 })).reachability;
      assert.deepEqual(disagreements(first, engineOf(lab.cluster)), []);
      // The README's claims between pods, on real packets.
      assert.equal(allowed(first, 2, 'monitoring/prometheus', 'tenant-a/db'), true, 'monitoring always reaches the metrics port');
      assert.equal(allowed(first, 1, 'monitoring/prometheus', 'tenant-a/db'), false, 'but not postgres');
      assert.equal(allowed(first, 0, 'tenant-b/web', 'tenant-a/web'), false, 'tenants are isolated');
      assert.equal(allowed(first, 1, 'tenant-a/web', 'tenant-a/db'), true, 'passed to the namespace owner, who allows it');
      assert.equal(allowed(first, 0, 'tenant-a/web', 'tenant-a/db'), false, "passed to the owner's NetworkPolicy, which admits 5432 only");
      assert.equal(allowed(first, 1, 'tenant-b/web', 'tenant-b/db'), false, 'passed on, no NetworkPolicy: the Baseline tier denies it');
      assert.equal(allowed(first, 2, 'tenant-a/web', 'monitoring/prometheus'), true, 'pod traffic is passed on and nothing selects prometheus');
      // The agents say that domainNames are not enforced.
      const problems = enforcer.events.filter((e) => e.kind === 'problem').map((e) => e.message);
      assert.ok(
        problems.some((m) => /domainNames peers are not enforced/.test(m) && /ClusterNetworkPolicy\/tenant-egress egress\[1\]/.test(m)),
        problems.join('\n'),
      );

      // Without allow-monitoring, tenant-a's NetworkPolicy decides what Prometheus may reach.
      const without: Cluster = { ...lab.cluster, clusterPolicies: (lab.cluster.clusterPolicies ?? []).filter((p) => p.name !== 'allow-monitoring') };
      const items = labManifests({ cluster: without }).items.filter((i) => /NetworkPolicy$/.test(i.kind));
      await enforcer.setPolicies(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
      const second = (await lab.probe(PROBES, { tcpTimeoutMs: 800, udpTimeoutMs: 800 })).reachability;
      assert.deepEqual(disagreements(second, engineOf(without)), []);
      assert.equal(allowed(second, 2, 'monitoring/prometheus', 'tenant-a/db'), false, "tenant-a's db-from-web now decides");
      assert.equal(allowed(second, 2, 'monitoring/prometheus', 'tenant-a/web'), false, 'the Baseline tier denies what no NetworkPolicy selects');
    });
  });
});

const kubeSkip = skip || controlPlaneSkip();
if (kubeSkip && !skip) console.log(`# skipping the cluster-mode tier test: ${kubeSkip}`);

/** The cluster as the API server holds it, read the way the agent reads it. */
async function apiCluster(kubeconfig: string): Promise<ClusterSnapshot['cluster']> {
  const source = agentClusterSource(await loadKubeConfig({ kubeconfig }));
  const s = await new Promise<ClusterSnapshot>((resolve) => void source.start((x) => resolve(x)));
  await source.stop();
  return s.cluster;
}

describe('cluster-scoped policies in the lab, enforced by netpol agent from a real API server', { skip: kubeSkip }, () => {
  test('the CRDs and the admin policies created while the agents run are enforced as the engine says', async () => {
    const { clusterPolicies, ...withoutTiers } = example();
    assert.ok((clusterPolicies ?? []).length > 0);
    await withLab('tk', withoutTiers, kubeEnforcer({ denyAction: 'reject' }), async (lab, enforcer) => {
      const kubeconfig = enforcer.info!.kubeconfig;
      const k = kubectl(kubeconfig);
      await k(['apply', '-f', CRDS]);
      await k(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd', '--all']);
      await k(['apply', '-f', join(EXAMPLE, 'admin-policies.yaml')]);
      const held = await apiCluster(kubeconfig);
      assert.equal(held.clusterPolicies?.length, clusterPolicies!.length, 'the API server holds the policies');
      const want = reachability(new Engine(held), sortPods(held.pods), PROBES);
      // The agents look for a CRD that was missing every 60 s: wait for that, then for the kernel.
      const t0 = Date.now();
      let got: Reachability | undefined;
      while (Date.now() - t0 < 120_000) {
        got = (await lab.probe(PROBES, { tcpTimeoutMs: 800, udpTimeoutMs: 800 })).reachability;
        if (disagreements(got, want).length === 0) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.deepEqual(disagreements(got!, want), [], 'not enforced within 120 s');
      console.log(`# cluster policies created through the API enforced (probed) within ${Date.now() - t0} ms`);
      assert.equal(allowed(got!, 0, 'tenant-b/web', 'tenant-a/web'), false, 'tenants are isolated');
      assert.equal(allowed(got!, 2, 'monitoring/prometheus', 'tenant-a/db'), true, 'monitoring always reaches the metrics port');
    });
  });
});
