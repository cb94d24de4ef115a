import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, clusterPolicy, node, pod, policy, tieredCluster } from '../../test/builders.js';
import { loadCluster } from '../load/index.js';
import { planLab, labNodeName, MAX_NODES } from './plan.js';
import { fabricBatch, nodeBatch, podBatch, allNetns } from './commands.js';
import { labNames, labIdOfNetns, isLabInterface, MAX_IFNAME } from './names.js';
import { labManifests } from './manifests.js';

const codes = (p: ReturnType<typeof planLab>) => p.diagnostics.map((d) => d.code);

describe('planLab: nodes', () => {
  test('pods without nodeName go round-robin in matrix order', () => {
    const c = cluster({ pods: [pod('y/b'), pod('x/a'), pod('y/a'), pod('x/b')] });
    const p = planLab(c, { id: 't1', nodes: 2 });
    assert.deepEqual(
      p.layout.pods.map((q) => [q.key, q.node]),
      [
        ['x/a', 0],
        ['x/b', 1],
        ['y/a', 0],
        ['y/b', 1],
      ],
    );
    assert.deepEqual(
      p.layout.nodes.map((n) => n.pods),
      [
        [0, 2],
        [1, 3],
      ],
    );
    assert.deepEqual(codes(p), []);
  });

  test('manifest node names map onto lab nodes (sorted names, i-th onto node i mod K)', () => {
    const onNode = (ref: string, nodeName: string) => ({ ...pod(ref), nodeName });
    const c = cluster({ pods: [onNode('x/a', 'w3'), onNode('x/b', 'w1'), onNode('x/c', 'w2'), pod('x/d')] });
    const p = planLab(c, { id: 't1', nodes: 2 });
    assert.deepEqual(
      p.layout.pods.map((q) => q.node),
      [0, 0, 1, 0],
    );
    assert.deepEqual(
      p.layout.nodes.map((n) => n.manifestNodeNames),
      [['w1', 'w3'], ['w2']],
    );
    // The lab cluster carries the lab node names, which enforcers compile for.
    assert.deepEqual(
      p.cluster.pods.map((q) => q.nodeName),
      [labNodeName(0), labNodeName(0), labNodeName(1), labNodeName(0)],
    );
  });

  test('a node count outside 1..MAX_NODES is an error', () => {
    for (const nodes of [0, MAX_NODES + 1, 1.5]) assert.deepEqual(codes(planLab(cluster({ pods: [pod('x/a')] }), { id: 't1', nodes })), ['LabNodeCount']);
  });

  test('one node has no fabric and no uplink; several nodes share one', () => {
    const c = cluster({ pods: [pod('x/a'), pod('x/b')] });
    assert.equal(planLab(c, { id: 't1', nodes: 1 }).layout.fabric, undefined);
    const p = planLab(c, { id: 't1', nodes: 3 });
    assert.equal(p.layout.fabric?.netns, 'np-t1-fab');
    assert.deepEqual(
      p.layout.nodes.map((n) => n.uplink?.ipv4),
      ['169.254.0.1', '169.254.0.2', '169.254.0.3'],
    );
  });
});

describe('planLab: addresses', () => {
  test('manifest IPs are kept; pods without one get the first free lab addresses', () => {
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['10.244.0.1'] }), pod('x/b'), pod('x/c')] });
    const p = planLab(c, { id: 't1' });
    assert.deepEqual(
      p.layout.pods.map((q) => [q.ips, q.assignedIps]),
      [
        [['10.244.0.1'], false],
        [['10.244.0.2'], true],
        [['10.244.0.3'], true],
      ],
    );
    assert.deepEqual(
      p.cluster.pods.map((q) => q.ips),
      [['10.244.0.1'], ['10.244.0.2'], ['10.244.0.3']],
    );
  });

  test('lab addresses avoid every ipBlock, so pods the engine sees without an IP match none in the kernel either', () => {
    const c = cluster({
      pods: [pod('x/a')],
      policies: [policy('x/p', { ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16' } }] }] })],
    });
    assert.deepEqual(planLab(c, { id: 't1' }).layout.pods[0]!.ips, ['10.0.0.1']);
  });

  test('an except carves out room inside a block', () => {
    const c = cluster({
      pods: [pod('x/a')],
      policies: [policy('x/p', { ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.7.0/24'] } }] }] })],
    });
    const p = planLab(c, { id: 't1' });
    assert.deepEqual(p.layout.pods[0]!.ips, ['10.244.7.1']);
    assert.deepEqual(codes(p), []);
  });

  test('when every address is in a block, a warning says the kernel will match the pod', () => {
    const c = cluster({ pods: [pod('x/a')], policies: [policy('x/p', { ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })] });
    const p = planLab(c, { id: 't1' });
    assert.deepEqual(p.layout.pods[0]!.ips, ['10.244.0.1']);
    assert.deepEqual(codes(p), ['LabIPInIPBlock']);
  });

  test('IPv6 in the manifests: pods without an IP get both families; IPv4 first', () => {
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['fd00:10:244::1', '10.244.0.9'] }), pod('x/b')] });
    const p = planLab(c, { id: 't1', nodes: 2 });
    assert.deepEqual(
      p.layout.pods.map((q) => q.ips),
      [
        ['10.244.0.9', 'fd00:10:244::1'],
        ['10.244.0.1', 'fd00:10:244::2'],
      ],
    );
    assert.deepEqual(p.layout.families, [4, 6]);
    assert.deepEqual(p.layout.gateway, { ipv4: '169.254.1.1', ipv6: 'fe80::1' });
    assert.deepEqual(
      p.layout.nodes.map((n) => n.uplink?.ipv6),
      ['fe80::ff:1', 'fe80::ff:2'],
    );
  });

  test('an IPv6-only cluster gets IPv6 only', () => {
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['fd00::5'] }), pod('x/b')] });
    const p = planLab(c, { id: 't1' });
    assert.deepEqual(
      p.layout.pods.map((q) => q.ips),
      [['fd00::5'], ['fd00:10:244::1']],
    );
    assert.deepEqual(p.layout.gateway, { ipv6: 'fe80::1' });
  });

  test('pods with no address family in common are a warning: they cannot connect', () => {
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['10.0.0.1'] }), pod('x/b', {}, { ips: ['fd00::1'] })] });
    assert.deepEqual(codes(planLab(c, { id: 't1' })), ['LabNoCommonFamily']);
  });

  test('two pods with one IP are an error', () => {
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['10.0.0.1'] }), pod('x/b', {}, { ips: ['10.0.0.1'] })] });
    assert.deepEqual(codes(planLab(c, { id: 't1' })), ['LabDuplicatePodIP']);
  });

  test('the gateway and node links step around pod IPs in link-local space', () => {
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['169.254.1.1'] }), pod('x/b', {}, { ips: ['169.254.0.7'] })] });
    const p = planLab(c, { id: 't1', nodes: 2 });
    assert.equal(p.layout.gateway.ipv4, '169.254.1.2');
    assert.equal(p.layout.nodes[0]!.uplink?.ipv4, '169.254.2.1');
  });

  test('hostNetwork pods are planned like any pod, with a note', () => {
    const c = cluster({ pods: [{ ...pod('x/a'), hostNetwork: true }] });
    assert.deepEqual(codes(planLab(c, { id: 't1' })), ['LabHostNetworkPod']);
  });
});

describe('planLab: names and ports', () => {
  test('every interface name fits IFNAMSIZ, every name carries the lab prefix', () => {
    const pods = Array.from({ length: 120 }, (_, i) => pod(`ns${i % 3}/p${i}`));
    const p = planLab(cluster({ pods }), { id: 'abcdef', nodes: 5 });
    const ifs = [...p.layout.pods.flatMap((q) => [q.ifName, q.nodeIfName]), ...p.layout.nodes.flatMap((n) => (n.uplink ? [n.uplink.ifName, n.uplink.fabricIfName] : [])), p.layout.fabric!.bridge];
    for (const name of ifs) {
      assert.ok(name.length <= MAX_IFNAME, name);
      assert.ok(isLabInterface(name, 'abcdef'), name);
    }
    const netns = allNetns(p.layout);
    assert.equal(new Set(netns).size, 120 + 5 + 1);
    for (const ns of netns) assert.equal(labIdOfNetns(ns), 'abcdef');
    assert.equal(new Set(p.layout.pods.map((q) => q.nodeIfName)).size, 120);
  });

  test('names: ids are checked; namespaces of other programs are not ours', () => {
    assert.throws(() => labNames('Bad-Id'));
    assert.throws(() => labNames('toolong7'));
    assert.equal(labIdOfNetns('np-ab1-p12'), 'ab1');
    assert.equal(labIdOfNetns('np-ab1-fab'), 'ab1');
    for (const other of ['netpol-test-y', 'np-ab1', 'np-ab1-x1', 'np-AB-p1', 'xnp-ab1-p1']) assert.equal(labIdOfNetns(other), undefined, other);
    assert.equal(isLabInterface('npab1p3', 'ab1'), true);
    assert.equal(isLabInterface('npab1p3', 'ab'), false);
    assert.equal(isLabInterface('eth0', 'ab1'), false);
  });

  test('the stand-in port avoids container ports and every numeric port or range of every policy', () => {
    const c = cluster({
      pods: [pod('x/a', {}, { ports: [{ port: 65000, protocol: 'TCP' }] })],
      policies: [policy('x/p', { ingress: [{ ports: [{ port: 64990, endPort: 64999 }, { port: 'http' }, { protocol: 'UDP' }] }] })],
    });
    assert.equal(planLab(c, { id: 't1' }).layout.unnamedPort, 64989);
    const all = cluster({ pods: [pod('x/a')], policies: [policy('x/p', { ingress: [{ ports: [{ port: 1, endPort: 65535 }] }] })] });
    assert.equal(planLab(all, { id: 't1' }).layout.unnamedPort, undefined);
  });

  test('planning is deterministic', () => {
    const c = cluster({ pods: [pod('x/a'), pod('y/b', {}, { ips: ['10.9.9.9'] }), pod('x/c')] });
    assert.deepEqual(planLab(c, { id: 'q', nodes: 2 }).layout, planLab(c, { id: 'q', nodes: 2 }).layout);
  });
});

describe('topology commands', () => {
  const c = cluster({ pods: [pod('x/a', {}, { ips: ['10.1.0.1', 'fd00::1'] }), pod('x/b', {}, { ips: ['10.1.0.2', 'fd00::2'] })] });
  const { layout } = planLab(c, { id: 'cmd', nodes: 2 });
  const [a, b] = layout.pods as [(typeof layout.pods)[0], (typeof layout.pods)[0]];

  test('a pod: veth to its node, host addresses, default routes via the node through permanent neighbours', () => {
    const lines = podBatch(layout, a).trim().split('\n');
    assert.deepEqual(lines, [
      'link set lo up',
      'link add npcmde0 index 2 address 02:6e:70:01:00:00 type veth peer name npcmdp0 index 100 address 02:6e:70:02:00:00 netns np-cmd-n0',
      'addr add 10.1.0.1/32 dev npcmde0',
      'addr add fd00::1/128 dev npcmde0 nodad',
      'link set npcmde0 up',
      'neigh replace 169.254.1.1 lladdr 02:6e:70:02:00:00 dev npcmde0 nud permanent',
      'route add default via 169.254.1.1 dev npcmde0 onlink',
      'neigh replace fe80::1 lladdr 02:6e:70:02:00:00 dev npcmde0 nud permanent',
      'route add default via fe80::1 dev npcmde0',
    ]);
  });

  test("a node: host routes to its pods, routes to the other nodes' pods via their uplinks", () => {
    const lines = nodeBatch(layout, layout.nodes[0]!).trim().split('\n');
    assert.ok(lines.includes('route add 10.1.0.1/32 dev npcmdp0'));
    assert.ok(lines.includes('route add fd00::1/128 dev npcmdp0'));
    assert.ok(lines.includes(`route add 10.1.0.2/32 via ${layout.nodes[1]!.uplink!.ipv4} dev npcmdup`));
    assert.ok(lines.includes(`route add fd00::2/128 via fe80::ff:2 dev npcmdup`));
    assert.ok(!lines.some((l) => l.includes(b.nodeIfName)), 'pod b is not on node 0');
    assert.ok(lines.includes('link add npcmdup index 2 address 02:6e:70:03:00:00 type veth peer name npcmdn0 index 100 address 02:6e:70:04:00:00 netns np-cmd-fab'));
  });

  test('the fabric bridges the uplinks; a one-node lab has none', () => {
    assert.deepEqual(fabricBatch(layout).trim().split('\n'), [
      'link set lo up',
      'link add npcmdbr type bridge',
      'link set npcmdbr up',
      'link set npcmdn0 master npcmdbr',
      'link set npcmdn0 up',
      'link set npcmdn1 master npcmdbr',
      'link set npcmdn1 up',
    ]);
    assert.equal(fabricBatch(planLab(c, { id: 'cmd', nodes: 1 }).layout), '');
  });
});

describe('labManifests', () => {
  test('pods carry their lab IPs and lab node; policies are kept verbatim', () => {
    const np = policy('x/deny', { ingress: [] });
    const plan = planLab(cluster({ pods: [pod('x/a', { app: 'a' }, { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] })], policies: [np] }), { id: 't1', nodes: 1 });
    const list = labManifests(plan);
    assert.deepEqual(
      list.items.map((o) => o.kind),
      ['Namespace', 'Pod', 'NetworkPolicy'],
    );
    const p = list.items[1] as { spec: { nodeName: string; containers: unknown[] }; status: unknown };
    assert.equal(p.spec.nodeName, 'lab-node-0');
    assert.deepEqual(p.spec.containers, [{ name: 'lab', ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }] }]);
    assert.deepEqual(p.status, { podIP: '10.244.0.1', podIPs: [{ ip: '10.244.0.1' }] });
    assert.equal(list.items[2], np.policy);
  });

  test('cluster-scoped policies, Node objects and host-network pods reach the lab cluster and its manifests, and load back as they were', () => {
    const cnp = clusterPolicy('ClusterNetworkPolicy', 'deny', { tier: 'Admin', priority: 1, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ nodes: {} }] }] });
    const c = tieredCluster({
      pods: [pod('x/a', {}, { ips: ['10.1.0.1'] }), { ...pod('y/host', {}, { ips: ['10.9.0.1'] }), hostNetwork: true }],
      clusterPolicies: [cnp],
      nodes: [node('n1', { role: 'control' }, ['10.9.0.1'])],
    });
    const plan = planLab(c, { id: 't2', nodes: 1 });
    assert.deepEqual(plan.cluster.clusterPolicies, [cnp]);
    assert.deepEqual(plan.cluster.nodes, c.nodes);
    const back = loadCluster([{ file: 'lab.json', text: JSON.stringify(labManifests(plan)) }]);
    assert.deepEqual(
      back.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.deepEqual(
      back.cluster.clusterPolicies?.map((p) => p.policy),
      [cnp.policy],
    );
    assert.deepEqual(
      back.cluster.nodes?.map((n) => [n.name, n.labels, n.addresses]),
      [['n1', { role: 'control' }, ['10.9.0.1']]],
    );
    assert.deepEqual(
      back.cluster.pods.map((p) => [p.name, p.hostNetwork === true, p.nodeName]),
      [
        ['a', false, 'lab-node-0'],
        ['host', true, 'lab-node-0'],
      ],
    );
  });
});
