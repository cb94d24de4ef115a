/**
 * Enforcement through a real control plane (`lab up|run --control-plane`): etcd and kube-apiserver on
 * this machine's loopback (src/controlplane), the lab cluster created in it as Namespaces, Pods (with
 * `spec.nodeName` of their lab node, then `status.podIP(s)` and `phase: Running` through the status
 * subresource, as a kubelet would) and NetworkPolicies, and one `netpol agent --node <lab node>` per
 * node in cluster mode, authenticated as the ServiceAccount of deploy/ (its ClusterRole and binding
 * created from deploy/ too, its token from the TokenRequest API). From then on the API server is the
 * source of truth: `kubectl --kubeconfig <runDir>/kubeconfig label|apply|delete ...` changes what the
 * kernel enforces.
 *
 * The agents cannot run inside the node namespaces (the API server listens on this namespace's
 * loopback), so they run here with `--netns <node namespace>`: their nft and conntrack act on the node.
 * Processes outside the lab's namespaces are listed in `<runDir>/host.json`, which teardown (destroyLab)
 * reads, so `lab down` stops them from any process.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { KubeClient, loadKubeConfig, NAMESPACES, NETWORK_POLICIES, NODES, PODS, resourcePath, type Action, type Resource } from '../kube/index.js';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../controlplane/index.js';
import { cliCommand } from './agent-enforcer.js';
import type { Enforcer, LabHandle } from './enforcer.js';
import { LabError } from './exec.js';
import { writeHostProcesses } from './host.js';
import { labManifests } from './manifests.js';

export interface KubeEnforcerOptions {
  readonly denyAction?: 'drop' | 'reject';
  readonly existingConnections?: 'cut' | 'keep';
  /** How long to wait for every agent's first ruleset (default 60 s). */
  readonly timeoutMs?: number;
}

export interface KubeLabInfo {
  /** Admin kubeconfig for kubectl and netpol (`--kubeconfig`). */
  readonly kubeconfig: string;
  readonly server: string;
  readonly agents: readonly { readonly node: string; readonly metrics: string; readonly log: string; readonly pid: number }[];
}

export interface KubeEnforcer extends Enforcer {
  /** Set once started. */
  readonly info: KubeLabInfo | undefined;
  /** The running control plane (tests restart its parts); undefined before start and after stop. */
  readonly controlPlane: ControlPlane | undefined;
}

/** The ServiceAccount deploy/ creates for the agent. */
export const AGENT_ACCOUNT = { namespace: 'netpol-system', name: 'netpol-agent' } as const;

/** deploy/ beside src/ (from src/lab or dist/src/lab). */
export function deployDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir);
    if (existsSync(join(dir, 'deploy', 'kustomization.yaml'))) return join(dir, 'deploy');
  }
  throw new LabError('unavailable', "deploy/ (the agent's ServiceAccount and ClusterRole) was not found beside the program");
}

/** An object as the API takes it: what the lab reads of one is its kind and where it lives. */
type KubeObject = { readonly kind?: string; readonly metadata?: { readonly name?: string; readonly namespace?: string }; readonly [k: string]: unknown };

const SERVICE_ACCOUNTS: Resource = { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true };
const CLUSTER_ROLES: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false };
const CLUSTER_ROLE_BINDINGS: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false };
const RESOURCES: Readonly<Record<string, Resource>> = {
  Namespace: NAMESPACES,
  ServiceAccount: SERVICE_ACCOUNTS,
  Pod: PODS,
  NetworkPolicy: NETWORK_POLICIES,
  // "Nodes allow *all* fields, including status, to be set on create": their addresses come along.
  Node: NODES,
  ClusterRole: CLUSTER_ROLES,
  ClusterRoleBinding: CLUSTER_ROLE_BINDINGS,
};

/** The creation of `o` (the kinds the lab creates): its collection's path and the action, for messages. */
function creation(o: KubeObject): { readonly path: string; readonly action: Action } {
  const resource = o.kind !== undefined ? RESOURCES[o.kind] : undefined;
  if (!resource && /^(Cluster|Admin|BaselineAdmin)NetworkPolicy$/.test(o.kind ?? '')) {
    // Their CRDs are not part of netpol: create the policies through kubectl once the lab is up.
    throw new LabError(
      'invalid-plan',
      `the lab cannot create a ${o.kind} in its control plane (the policy.networking.k8s.io CRDs are not installed there): start it without, then install the CRDs and apply the policies with kubectl --kubeconfig <lab run dir>/kubeconfig`,
    );
  }
  if (!resource) throw new LabError('invalid-plan', `the lab cannot create a ${o.kind}`);
  const namespace = resource.namespaced ? (o.metadata?.namespace ?? '') : undefined;
  const action: Action = { verb: 'create', resource, ...(namespace !== undefined ? { namespace } : {}), ...(o.metadata?.name !== undefined ? { name: o.metadata.name } : {}) };
  return { path: resourcePath(resource, namespace), action };
}

async function create(client: KubeClient, o: KubeObject): Promise<Record<string, unknown>> {
  const { path, action } = creation(o);
  return await client.request('POST', path, action, o);
}

/** deploy/'s objects except those that need a node to run (the DaemonSet: the lab runs the agents itself). */
async function deployObjects(): Promise<KubeObject[]> {
  const dir = deployDir();
  const kustomization = parseAllDocuments(await readFile(join(dir, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as { resources?: string[] };
  const out: KubeObject[] = [];
  for (const file of kustomization.resources ?? []) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      const o = doc.toJS() as KubeObject | null;
      if (o && o.kind !== 'DaemonSet') out.push(o);
    }
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function kubeEnforcer(opts: KubeEnforcerOptions = {}): KubeEnforcer {
  let cp: ControlPlane | undefined;
  let info: KubeLabInfo | undefined;
  const agents: { pid: number; exited: () => boolean }[] = [];

  const stop = async () => {
    for (const a of agents) {
      try {
        process.kill(a.pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    for (let i = 0; i < 100 && agents.some((a) => !a.exited()); i++) await sleep(50);
    agents.length = 0;
    await cp?.stop();
    cp = undefined;
  };

  return {
    name: 'agent (control plane)',
    requires: ['nft', 'conntrack'],
    get info() {
      return info;
    },
    get controlPlane() {
      return cp;
    },
    async start(lab: LabHandle) {
      const missing = controlPlaneUnavailable();
      if (missing) throw new LabError('unavailable', `--control-plane: ${missing}`);
      cp = await startControlPlane({ detached: true });
      const hostFile = { processes: cp.pids().map((pid) => ({ pid, role: 'control plane' })), dirs: [cp.dir] };
      await writeHostProcesses(lab.runDir, hostFile);
      const kubeconfig = join(lab.runDir, 'kubeconfig');
      await copyFile(cp.kubeconfig, kubeconfig);
      const admin = new KubeClient(await loadKubeConfig({ kubeconfig }));

      // deploy/'s account, then the lab cluster.
      for (const o of await deployObjects()) await create(admin, o);
      const manifests = labManifests({ cluster: lab.cluster });
      for (const item of manifests.items) {
        const o = item as unknown as KubeObject;
        if (o.kind === 'Namespace' && o.metadata?.name === AGENT_ACCOUNT.namespace) continue;
        if (o.kind === 'Pod') {
          const pod = item as unknown as { spec: { containers: Record<string, unknown>[] }; status?: unknown; metadata: { name: string; namespace: string } };
          const { status: podStatus, ...spec } = pod;
          await create(admin, { ...spec, spec: { ...pod.spec, containers: pod.spec.containers.map((c) => ({ ...c, image: 'netpol-lab' })) } });
          const { namespace, name } = pod.metadata;
          await admin.request(
            'PATCH',
            `${resourcePath(PODS, namespace, name)}/status`,
            { verb: 'patch', resource: PODS, namespace, name },
            { status: { ...(podStatus as object | undefined), phase: 'Running' } },
            'application/merge-patch+json',
          );
          continue;
        }
        await create(admin, o);
      }
      const account = { verb: 'create', resource: SERVICE_ACCOUNTS, namespace: AGENT_ACCOUNT.namespace, name: AGENT_ACCOUNT.name } as const;
      const tokenRequest = await admin.request('POST', `${resourcePath(SERVICE_ACCOUNTS, account.namespace, account.name)}/token`, account, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 7 * 24 * 3600 },
      });
      const token = (tokenRequest.status as { token?: string } | undefined)?.token;
      if (!token) throw new LabError('enforcer', 'the TokenRequest API returned no token for the agent');
      const agentConfig = join(lab.runDir, 'agent.kubeconfig');
      await cp.writeTokenKubeconfig(agentConfig, token, `system:serviceaccount:${AGENT_ACCOUNT.namespace}:${AGENT_ACCOUNT.name}`);

      const started: KubeLabInfo['agents'][number][] = [];
      for (const node of lab.layout.nodes) {
        const port = await freePort();
        const log = join(lab.runDir, `agent-${node.name}.log`);
        const argv = [...cliCommand(), 'agent', '--node', node.name, '--kubeconfig', agentConfig, '--netns', node.netns, '--listen', `127.0.0.1:${port}`, '-o', 'json'];
        argv.push('--deny-action', opts.denyAction ?? 'drop', '--existing-connections', opts.existingConnections ?? 'cut');
        const fd = openSync(log, 'a');
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], detached: true });
        closeSync(fd);
        child.unref();
        if (child.pid === undefined) throw new LabError('enforcer', `the agent of ${node.name} did not start`);
        let exited = false;
        child.on('exit', () => (exited = true));
        agents.push({ pid: child.pid, exited: () => exited });
        hostFile.processes.push({ pid: child.pid, role: `agent ${node.name}` });
        started.push({ node: node.name, metrics: `http://127.0.0.1:${port}/metrics`, log, pid: child.pid });
      }
      await writeHostProcesses(lab.runDir, hostFile);

      // Ready: every agent has its first ruleset in the kernel (/readyz).
      const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
      for (const [i, a] of started.entries()) {
        while ((await status(a.metrics.replace(/metrics$/, 'readyz'))) !== 200) {
          if (agents[i]!.exited() || Date.now() > deadline) {
            const tail = (await readFile(a.log, 'utf8').catch(() => '')).split('\n').slice(-10).join('\n');
            throw new LabError('enforcer', `the agent of ${a.node} ${agents[i]!.exited() ? 'exited' : 'was not ready in time'}:\n${tail}`);
          }
          await sleep(50);
        }
      }
      info = { kubeconfig, server: cp.server, agents: started };
    },
    stop,
  };
}
