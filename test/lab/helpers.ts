/**
 * Shared by the lab's end-to-end tests: the skip reasons, a check that a lab left nothing behind, and
 * the fixture for a test on a lab with enforcers (`withLab`, `withAgentLab`: create, run the test,
 * destroy, check for leftovers), with the small two-namespace cluster the agent tests probe.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { NF_LOG_ALL_NETNS } from '../../src/agent/index.js';
import { agentEnforcer, checkPrerequisites, DEFAULT_STATE_DIR, isLabId, Lab, type AgentEnforcer, type AgentEnforcerOptions, type Enforcer } from '../../src/lab/index.js';
import { loadCluster } from '../../src/load/index.js';
import type { Cluster } from '../../src/model/index.js';

/** Why the lab tests cannot run here, or undefined when they can (root, `ip`, `nft`). */
export function labSkipReason(): string | undefined {
  const p = checkPrerequisites(['ip', 'nft']);
  return p.missing.length > 0 ? `the lab needs ${p.missing.join('; ')}` : undefined;
}

/** Why the lab tests with real agents cannot run here (root, `ip`, `nft`, `conntrack`), or false when they can. */
export function agentLabSkip(): string | false {
  const p = checkPrerequisites(['ip', 'nft', 'conntrack']);
  return p.missing.length > 0 ? `needs ${p.missing.join('; ')}` : false;
}

/** A fresh lab id for one test (ids are 1-6 characters [a-z0-9]). */
export function testLabId(tag: string): string {
  const id = `${tag}${process.pid.toString(36).slice(-(6 - tag.length))}`;
  if (!isLabId(id)) throw new Error(`bad test lab id ${id}`);
  return id;
}

export interface Leftovers {
  readonly namespaces: string[];
  readonly links: string[];
  readonly stateFile: boolean;
  readonly processes: number[];
}

/** Whatever lab `id` left on the machine: namespaces, interfaces here, its state file, its pod processes. */
export function leftovers(id: string, stateDir = DEFAULT_STATE_DIR): Leftovers {
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`np-${id}-`));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`np${id}`));
  const processes: number[] = [];
  const marker = `/lab-${id}/pod.mjs`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) processes.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return { namespaces, links, stateFile: existsSync(`${stateDir}/lab-${id}.json`), processes };
}

export const NOTHING: Leftovers = { namespaces: [], links: [], stateFile: false, processes: [] };

/**
 * The fixture for one test on a lab: builds lab `testLabId(tag)` of `cluster` on `nodes` lab nodes (2
 * unless said) with `enforcer`, which has applied its first rules when `body` runs (an agent enforcer:
 * every agent has reported its first snapshot), runs `body`, destroys the lab whatever happened, and
 * then asserts that nothing is left behind.
 */
export async function withLab<E extends Enforcer>(tag: string, cluster: Cluster, enforcer: E, body: (lab: Lab, enforcer: E) => Promise<void>, nodes = 2): Promise<void> {
  const id = testLabId(tag);
  const lab = await Lab.create(cluster, { id, nodes, enforcer });
  try {
    await body(lab, enforcer);
  } finally {
    await lab.destroy();
  }
  assert.deepEqual(leftovers(id), NOTHING);
}

/**
 * `withLab` with real agents (`netpol agent`, one per lab node) started with `options`. With
 * `logDenied` the lab sets net.netfilter.nf_log_all_netns while the agents run: asserted to be put back
 * after the lab is gone.
 */
export async function withAgentLab(tag: string, cluster: Cluster, options: AgentEnforcerOptions, body: (lab: Lab, enforcer: AgentEnforcer) => Promise<void>): Promise<void> {
  const sysctlBefore = options.logDenied ? readFileSync(NF_LOG_ALL_NETNS, 'utf8').trim() : undefined;
  await withLab(tag, cluster, agentEnforcer(options), body);
  if (sysctlBefore !== undefined) assert.equal(readFileSync(NF_LOG_ALL_NETNS, 'utf8').trim(), sysctlBefore, 'the sysctl is put back');
}

/**
 * Manifests of namespaces x and y (labelled `ns: x`, `ns: y`) and the pods `refs` (`ns/name`, labelled
 * `pod: name`), alternately on node-0 and node-1, serving TCP and UDP 80, at `subnet`.0.1, .0.2, ...
 * (`subnet` as `10.77`: a range of the test's own, so that other labs' kernel log lines never look like
 * its own).
 */
export function twoNamespaces(refs: readonly string[], subnet: string): string {
  const pods = refs.map((ref, i) => {
    const [ns, name] = ref.split('/');
    return `---
apiVersion: v1
kind: Pod
metadata: {name: '${name}', namespace: '${ns}', labels: {pod: '${name}'}}
spec: {nodeName: node-${i % 2}, containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}]}]}
status: {podIP: ${subnet}.0.${i + 1}}`;
  });
  return `
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: 'y', labels: {ns: 'y'}}
${pods.join('\n')}
`;
}

/** TCP and UDP to port 80: what the agent tests probe. */
export const TCP_UDP_80 = [
  { port: 80, protocol: 'TCP' as const },
  { port: 80, protocol: 'UDP' as const },
];

/** The cluster of `base` (as `base.yaml`) and `policies` (as `policies.yaml`); fails the test on an error diagnostic. */
export function clusterOf(base: string, policies: string): Cluster {
  const { cluster, diagnostics } = loadCluster([
    { file: 'base.yaml', text: base },
    { file: 'policies.yaml', text: policies },
  ]);
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return cluster;
}

/**
 * Waits until the agents have reported `count` drop events and every node's agent serves /drops (at
 * most 5 s: events arrive within milliseconds), then a moment more, so that an event too many would be
 * seen.
 */
export async function settledDrops(lab: Lab, enforcer: AgentEnforcer, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((enforcer.drops.length < count || lab.layout.nodes.some((n) => !enforcer.listening(n.name))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
}

/** The `inet netpol` table of the node in network namespace `netns`, as `nft -j list` gives it (counters included). */
export function nftTable(netns: string): unknown {
  return JSON.parse(execFileSync('ip', ['netns', 'exec', netns, 'nft', '-j', 'list', 'table', 'inet', 'netpol'], { encoding: 'utf8' })) as unknown;
}
