/**
 * The agent's cluster source against a real kube-apiserver and etcd (src/controlplane): what it delivers,
 * and what it never delivers. Fail closed: nothing before every kind is listed; no snapshot missing an
 * object while the API server or etcd restarts, the network is cut, or the watch expires (410) — and
 * afterwards the changes made meanwhile arrive. The deploy/ ServiceAccount is enough, and is refused
 * everything else by the real RBAC authorizer. Skipped, saying why, without the control plane binaries.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadKubeConfig, type KubeClusterSource, type KubeSourceEvent } from '../../src/kube/index.js';
import { agentClusterSource } from '../../src/agent/kube-source.js';
import type { ClusterSnapshot } from '../../src/agent/source.js';
import { controlPlaneSkip, createPod, kubectl, Relay, until, useControlPlane, type Kubectl } from '../kube/helpers.js';

const skip = controlPlaneSkip();
const REPO = new URL('../..', import.meta.url).pathname;

/** A source under test: every snapshot and event it produced. */
class Recorder {
  readonly snapshots: ClusterSnapshot[] = [];
  readonly events: KubeSourceEvent[] = [];
  source!: KubeClusterSource;
  static async create(kubeconfig: string, absentRecheckMs?: number): Promise<Recorder> {
    const r = new Recorder();
    r.source = agentClusterSource(await loadKubeConfig({ kubeconfig }), (e) => r.events.push(e), absentRecheckMs !== undefined ? { absentRecheckMs } : {});
    return r;
  }
  start(): Promise<void> {
    return this.source.start((s) => void this.snapshots.push(s));
  }
  get last(): ClusterSnapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }
  /** Waits for a snapshot for which `f` holds. */
  until(what: string, f: (s: ClusterSnapshot) => boolean, ms = 10_000): Promise<ClusterSnapshot> {
    return until(what, () => (this.last && f(this.last) ? this.last : undefined), ms);
  }
}

const podKeys = (s: ClusterSnapshot, ns: string) =>
  s.cluster.pods
    .filter((p) => p.namespace === ns)
    .map((p) => p.name)
    .sort();
const policyKeys = (s: ClusterSnapshot, ns: string) =>
  s.cluster.policies
    .filter((p) => p.namespace === ns)
    .map((p) => p.name)
    .sort();
const pod = (s: ClusterSnapshot, ns: string, name: string) => s.cluster.pods.find((p) => p.namespace === ns && p.name === name);

function denyAll(ns: string, name: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector: { matchLabels: labels }, policyTypes: ['Ingress'] } });
}

/** A CustomResourceDefinition of a policy kind that accepts any content. */
function looseCRD(kind: string, plural: string, version: string): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    // (The group is protected: CRDs in it carry the upstream approval, as network-policy-api's do.)
    metadata: { name: `${plural}.policy.networking.k8s.io`, annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/network-policy-api/pull/300' } },
    spec: {
      group: 'policy.networking.k8s.io',
      scope: 'Cluster',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

/** A namespace with two running pods, a finished one and one policy. */
async function seed(k: Kubectl, ns: string): Promise<void> {
  await k(['create', 'namespace', ns]);
  await k(['label', 'namespace', ns, 'team=blue']);
  await createPod(k, ns, 'a', { app: 'a' }, 'node-1', '10.1.0.1');
  await createPod(k, ns, 'b', { app: 'b' }, 'node-2', '10.1.0.2');
  await createPod(k, ns, 'done', { app: 'done' }, 'node-1', '10.1.0.3');
  await k(['patch', 'pod', 'done', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Succeeded"}}']);
  await k(['apply', '-f', '-'], denyAll(ns, 'deny-a', { app: 'a' }));
}

/** Every snapshot from `from` on still holds the seeded objects (no allow window, nothing lost). */
function assertNothingLost(r: Recorder, ns: string, from: number): void {
  for (const s of r.snapshots.slice(from)) {
    assert.deepEqual(
      podKeys(s, ns).filter((n) => n === 'a' || n === 'b'),
      ['a', 'b'],
      `generation ${s.generation} lacks a pod`,
    );
    assert.ok(policyKeys(s, ns).includes('deny-a'), `generation ${s.generation} lacks policy deny-a`);
  }
}

describe('KubeClusterSource against a real API server', { skip }, () => {
  const recorders: Recorder[] = [];
  const relays: Relay[] = [];
  // (Before the control plane's own `after`: sources and relays stop first.)
  after(async () => {
    for (const r of recorders) await r.source.stop();
    for (const r of relays) await r.close();
  });
  const fx = useControlPlane();

  const recorder = async (kubeconfig: string, absentRecheckMs?: number) => {
    const r = await Recorder.create(kubeconfig, absentRecheckMs);
    recorders.push(r);
    await r.start();
    return r;
  };

  test('delivers the cluster: namespace labels, running pods with IPs and ports, policies; finished pods left out', async () => {
    await seed(fx.k, 'conv');
    const r = await recorder(fx.cp.kubeconfig);
    const s = await r.until('the seeded namespace', (x) => podKeys(x, 'conv').length === 2);
    assert.deepEqual(podKeys(s, 'conv'), ['a', 'b']);
    assert.deepEqual(pod(s, 'conv', 'a'), { namespace: 'conv', name: 'a', labels: { app: 'a' }, ips: ['10.1.0.1'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], nodeName: 'node-1' });
    assert.deepEqual(s.cluster.namespaces.get('conv')?.labels, { team: 'blue', 'kubernetes.io/metadata.name': 'conv' });
    const p = s.cluster.policies.find((x) => x.name === 'deny-a');
    // The API server defaults what the manifest left out; the agent sees the stored object.
    assert.deepEqual(p?.policy.spec, { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Ingress'] });
  });

  test('label changes and policy create/update/delete arrive', async () => {
    await seed(fx.k, 'chg');
    const r = await recorder(fx.cp.kubeconfig);
    await r.until('the seeded namespace', (x) => podKeys(x, 'chg').length === 2);
    await fx.k(['label', 'pod', 'a', '-n', 'chg', 'tier=web']);
    await r.until('the new label', (x) => pod(x, 'chg', 'a')?.labels.tier === 'web');
    await fx.k(['label', 'namespace', 'chg', 'team=red', '--overwrite']);
    await r.until('the namespace label', (x) => x.cluster.namespaces.get('chg')?.labels.team === 'red');
    await fx.k(['apply', '-f', '-'], denyAll('chg', 'deny-b', { app: 'b' }));
    await r.until('the new policy', (x) => policyKeys(x, 'chg').includes('deny-b'));
    await fx.k(['apply', '-f', '-'], denyAll('chg', 'deny-b', { app: 'c' }));
    await r.until('the updated policy', (x) => x.cluster.policies.find((p) => p.name === 'deny-b')?.policy.spec.podSelector.matchLabels?.app === 'c');
    await fx.k(['delete', 'networkpolicy', 'deny-b', '-n', 'chg']);
    await r.until('the deletion', (x) => !policyKeys(x, 'chg').includes('deny-b'));
    await fx.k(['delete', 'pod', 'b', '-n', 'chg', '--grace-period=0', '--force']);
    await r.until('the pod deletion', (x) => podKeys(x, 'chg').join() === 'a');
  });

  test('nothing before every kind is listed: an account that cannot list NetworkPolicies gets no snapshot', async () => {
    await seed(fx.k, 'rbac');
    await fx.k(['create', 'serviceaccount', 'half', '-n', 'rbac']);
    await fx.k(['create', 'clusterrole', 'half-reader', '--verb=get,list,watch', '--resource=pods,namespaces']);
    await fx.k(['create', 'clusterrolebinding', 'half-reader', '--clusterrole=half-reader', '--serviceaccount=rbac:half']);
    const token = (await fx.k(['create', 'token', 'half', '-n', 'rbac'])).trim();
    const kubeconfig = join(fx.dir, 'half.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'half');
    const r = await recorder(kubeconfig);
    await until('the Forbidden answer to be reported', () => r.events.find((e) => e.kind === 'problem' && /networkpolicies/.test(e.message)));
    assert.equal(r.snapshots.length, 0, 'a snapshot without policies would allow everything');
    assert.equal(r.source.stats().synced, false);
    // Granted (with the cluster-scoped kinds the agent also follows): the next retry lists the policies,
    // and the first snapshot has everything.
    const verbs = ['get', 'list', 'watch'];
    const rules = [
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs },
      { apiGroups: ['policy.networking.k8s.io'], resources: ['adminnetworkpolicies', 'baselineadminnetworkpolicies', 'clusternetworkpolicies'], verbs },
      { apiGroups: [''], resources: ['nodes'], verbs },
    ];
    await fx.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'half-policies' }, rules }));
    await fx.k(['create', 'clusterrolebinding', 'half-policies', '--clusterrole=half-policies', '--serviceaccount=rbac:half']);
    const s = await r.until('the first snapshot', () => true);
    assert.equal(s.generation, 1);
    assert.deepEqual(podKeys(s, 'rbac'), ['a', 'b']);
    assert.deepEqual(policyKeys(s, 'rbac'), ['deny-a']);
    await until('the recovery to be reported', () => r.events.find((e) => e.kind === 'resolved'));
  });

  test('kube-apiserver killed and restarted: no snapshot loses anything, later changes arrive', async () => {
    await seed(fx.k, 'apikill');
    const r = await recorder(fx.cp.kubeconfig);
    await r.until('the seeded namespace', (x) => podKeys(x, 'apikill').length === 2);
    const from = r.snapshots.length;
    await fx.cp.restartApiServer();
    const t0 = Date.now();
    await fx.k(['label', 'pod', 'b', '-n', 'apikill', 'after=restart']);
    await r.until('the change after the restart', (x) => pod(x, 'apikill', 'b')?.labels.after === 'restart', 5_000);
    console.log(`# re-synced ${Date.now() - t0} ms after kube-apiserver was ready again`);
    assertNothingLost(r, 'apikill', from);
    assert.ok(
      r.events.some((e) => e.kind === 'problem' && /lost the API server/.test(e.message)),
      'the outage is reported',
    );
    assert.ok((r.source.stats().restarts.pods ?? 0) > 0);
  });

  test('etcd killed and restarted: no snapshot loses anything, later changes arrive', async () => {
    await seed(fx.k, 'etcdkill');
    const r = await recorder(fx.cp.kubeconfig);
    await r.until('the seeded namespace', (x) => podKeys(x, 'etcdkill').length === 2);
    const from = r.snapshots.length;
    await fx.cp.restartEtcd();
    const t0 = Date.now();
    await fx.k(['apply', '-f', '-'], denyAll('etcdkill', 'after-etcd'));
    await r.until('the change after the restart', (x) => policyKeys(x, 'etcdkill').includes('after-etcd'), 5_000);
    console.log(`# re-synced ${Date.now() - t0} ms after etcd was back`);
    assertNothingLost(r, 'etcdkill', from);
  });

  test('the deploy/ ServiceAccount reads what the agent needs and is refused everything else', async () => {
    await fx.k(['apply', '-k', join(REPO, 'deploy')]);
    // The drop log's patch of the DaemonSet is one the API server accepts (privileged, /dev/kmsg).
    const patched = JSON.parse(
      await fx.k(['patch', 'daemonset', 'netpol-agent', '-n', 'netpol-system', '--type=json', '--patch-file', join(REPO, 'deploy/drop-log-patch.yaml'), '--dry-run=server', '-o', 'json']),
    ) as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    assert.ok(patched.spec.template.spec.containers[0]!.args.includes('--log-denied'));
    const token = (await fx.k(['create', 'token', 'netpol-agent', '-n', 'netpol-system'])).trim();
    const kubeconfig = join(fx.dir, 'agent.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'netpol-agent');
    const r = await recorder(kubeconfig);
    await r.until('a snapshot through the agent account', (x) => x.cluster.namespaces.has('netpol-system'));
    const sa = kubectl(kubeconfig);
    for (const verb of ['get', 'list', 'watch']) {
      // (The cluster-scoped policy kinds have no CRD here: kubectl will not ask about them. The snapshot
      // above needed their lists, answered 404 rather than 403.)
      for (const resource of ['pods', 'namespaces', 'nodes', 'networkpolicies.networking.k8s.io']) {
        assert.equal((await sa(['auth', 'can-i', verb, resource, '-A'])).trim(), 'yes', `${verb} ${resource}`);
      }
    }
    // Real requests, refused by the RBAC authorizer.
    const refused = [
      ['get', 'secrets', '-A'],
      ['delete', 'node', 'any'],
      ['get', 'services', '-A'],
      ['get', 'configmaps', '-n', 'netpol-system'],
      ['create', 'namespace', 'intruder'],
      ['label', 'namespace', 'netpol-system', 'x=y'],
      ['delete', 'pod', 'a', '-n', 'conv'],
      ['apply', '-f', '-'],
      ['create', 'token', 'netpol-agent', '-n', 'netpol-system'],
    ];
    for (const args of refused) {
      await assert.rejects(sa(args, args[0] === 'apply' ? denyAll('conv', 'intruder') : undefined), /Forbidden|forbidden|cannot/, `kubectl ${args.join(' ')} must be refused`);
    }
  });

  test('cluster-scoped policies: a CRD installed later is picked up; a stored object netpol cannot decode makes the snapshot incomplete', async () => {
    await seed(fx.k, 'crd');
    const r = await recorder(fx.cp.kubeconfig, 500);
    const first = await r.until('the seeded namespace', (x) => podKeys(x, 'crd').length === 2);
    assert.equal(first.cluster.clusterPolicies, undefined, 'no CRD, no cluster-scoped policies, and no error');
    assert.equal(first.incomplete, undefined);
    // A CRD without a schema: the API server stores whatever it is given, as a cluster whose CRD is
    // older or looser than netpol's decoder would.
    await fx.k(['apply', '-f', '-'], JSON.stringify(looseCRD('AdminNetworkPolicy', 'adminnetworkpolicies', 'v1alpha1')));
    await fx.k(['wait', '--for', 'condition=Established', '--timeout', '30s', 'crd/adminnetworkpolicies.policy.networking.k8s.io']);
    const anp = (name: string, spec: object) => JSON.stringify({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name }, spec });
    await fx.k(['apply', '-f', '-'], anp('guard', { priority: 10, subject: { namespaces: {} }, ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: {} }] }] }));
    const withGuard = await r.until('the AdminNetworkPolicy', (x) => (x.cluster.clusterPolicies ?? []).some((p) => p.name === 'guard'));
    assert.equal(withGuard.incomplete, undefined);
    // Undecodable: not known to be absent, so the snapshot is not the cluster (the agent applies nothing).
    await fx.k(['apply', '-f', '-'], anp('broken', { priority: 'high', subject: 7 }));
    const broken = await r.until('the incomplete snapshot', (x) => x.incomplete !== undefined);
    assert.match(broken.incomplete ?? '', /cannot decode AdminNetworkPolicy broken/);
    assert.ok(broken.diagnostics.some((d) => d.severity === 'error' && d.object === 'AdminNetworkPolicy broken'));
    await fx.k(['delete', 'adminnetworkpolicy', 'broken']);
    const fixed = await r.until('a complete snapshot again', (x) => x.incomplete === undefined && x.generation > broken.generation);
    assert.deepEqual(
      (fixed.cluster.clusterPolicies ?? []).map((p) => p.name),
      ['guard'],
    );
    await fx.k(['delete', 'crd', 'adminnetworkpolicies.policy.networking.k8s.io']);
    await r.until('the CRD removed with its objects', (x) => x.cluster.clusterPolicies === undefined);
  });

  test('network cut between the source and the API server: nothing delivered while cut, changes arrive after', async () => {
    await seed(fx.k, 'cut');
    const relay = await Relay.start(fx.cp.server);
    relays.push(relay);
    const r = await recorder(await relay.kubeconfig(fx.cp, join(fx.dir, 'relay.kubeconfig')));
    await r.until('the seeded namespace', (x) => podKeys(x, 'cut').length === 2);
    const from = r.snapshots.length;
    relay.cut();
    await fx.k(['label', 'pod', 'a', '-n', 'cut', 'during=cut']);
    await until('the cut to be reported', () => r.events.find((e) => e.kind === 'problem'));
    assert.equal(r.snapshots.length, from, 'nothing is delivered while the API server is out of reach');
    relay.restore();
    const t0 = Date.now();
    await r.until('the change made during the cut', (x) => pod(x, 'cut', 'a')?.labels.during === 'cut', 5_000);
    console.log(`# re-synced ${Date.now() - t0} ms after the network came back`);
    assertNothingLost(r, 'cut', from);
  });
});

describe('KubeClusterSource when its watch expires (410 Gone)', { skip }, () => {
  let source: Recorder | undefined;
  let relay: Relay | undefined;
  after(async () => {
    await source?.source.stop();
    await relay?.close();
  });
  // Watches served straight from etcd, compacted every second: a watch resumed from a resourceVersion
  // more than a few seconds old is answered with 410 Gone.
  const fx = useControlPlane({ apiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=1s'] });

  test('relists, delivers the changes it missed and loses nothing', async () => {
    const k = fx.k;
    await seed(k, 'gone');
    relay = await Relay.start(fx.cp.server);
    source = await Recorder.create(await relay.kubeconfig(fx.cp, join(fx.dir, 'relay.kubeconfig')));
    await source.start();
    const r = source;
    await r.until('the seeded namespace', (x) => podKeys(x, 'gone').length === 2);
    const from = r.snapshots.length;
    relay.cut();
    await fx.k(['label', 'pod', 'a', '-n', 'gone', 'missed=yes']);
    await fx.k(['apply', '-f', '-'], denyAll('gone', 'missed'));
    await fx.k(['delete', 'networkpolicy', 'deny-a', '-n', 'gone']);
    await fx.k(['apply', '-f', '-'], denyAll('gone', 'deny-a'));
    // Let two compactions pass the source's resourceVersion.
    await new Promise((res) => setTimeout(res, 3_000));
    assert.equal(r.snapshots.length, from);
    relay.restore();
    const t0 = Date.now();
    await r.until('the missed changes', (x) => pod(x, 'gone', 'a')?.labels.missed === 'yes' && policyKeys(x, 'gone').includes('missed'), 5_000);
    console.log(`# re-synced ${Date.now() - t0} ms after the network came back (relists: ${JSON.stringify(r.source.stats().relists)})`);
    assert.ok(
      Object.values(r.source.stats().relists).some((n) => n > 0),
      'the expired watch was answered with 410 and the source listed again',
    );
    assertNothingLost(r, 'gone', from);
  });
});
