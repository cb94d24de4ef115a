/**
 * Shared by the tests that talk to a real control plane: the fixture that starts one for a suite
 * (`useControlPlane`: start, client, kubectl, temp dir, stop), kubectl of the same release, a TCP relay
 * that can cut the network between a client and the API server, a wait-until helper, and a
 * ServiceAccount with exactly some rules and a token for it.
 */
import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneUnavailable, kubectlPath, startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../src/controlplane/index.js';
import { ensureNamespace, KubeClient, loadKubeConfig, resourcePath, type Resource } from '../../src/kube/index.js';

/** Why control-plane tests cannot run here (printed as the skip reason), or false. */
export function controlPlaneSkip(): string | false {
  const why = controlPlaneUnavailable();
  return why === undefined ? false : `needs a control plane: ${why}`;
}

/** A control plane for one suite, with an admin client, kubectl and a temp dir. */
export interface ControlPlaneFixture {
  readonly cp: ControlPlane;
  readonly client: KubeClient;
  readonly k: Kubectl;
  /** A fresh temporary directory, removed with the control plane. */
  readonly dir: string;
}

/**
 * Call inside a `describe` (with `{ skip: controlPlaneSkip() }`): starts a control plane before the
 * suite's tests and stops it, removing the temp dir, after them. The fields are there once the suite's
 * `before` hooks have run.
 */
export function useControlPlane(options: ControlPlaneOptions = {}): ControlPlaneFixture {
  let started: ControlPlaneFixture | undefined;
  const get = <K extends keyof ControlPlaneFixture>(key: K): ControlPlaneFixture[K] => {
    if (!started) throw new Error('the control plane is not started: use the fixture inside a test or a later before hook');
    return started[key];
  };
  before(async () => {
    const cp = await startControlPlane(options);
    started = { cp, client: new KubeClient(await loadKubeConfig({ kubeconfig: cp.kubeconfig })), k: kubectl(cp.kubeconfig), dir: await mkdtemp(join(tmpdir(), 'netpol-cp-')) };
  });
  after(async () => {
    const s = started;
    started = undefined;
    await s?.cp.stop();
    if (s) await rm(s.dir, { recursive: true, force: true });
  });
  return {
    get cp() {
      return get('cp');
    },
    get client() {
      return get('client');
    },
    get k() {
      return get('k');
    },
    get dir() {
      return get('dir');
    },
  };
}

export interface Kubectl {
  (args: readonly string[], input?: string): Promise<string>;
}

/** What one kubectl run printed, and its exit code. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl against `kubeconfig`, whatever its outcome. */
export function kubectlRun(kubeconfig: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Runs kubectl against `kubeconfig`; rejects with its stderr when it fails. */
export function kubectl(kubeconfig: string): Kubectl {
  return async (args, input) => {
    const r = await kubectlRun(kubeconfig, args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
}

/** A pod manifest on `node` with `ip`, to create and then give its status (as a kubelet would). */
export function podManifest(namespace: string, name: string, labels: Record<string, string>, node: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'none', ports: [{ name: 'http', containerPort: 80 }] }] },
  });
}

/** Creates a pod and sets status.podIP and phase Running through the status subresource. */
export async function createPod(k: Kubectl, namespace: string, name: string, labels: Record<string, string>, node: string, ip: string): Promise<void> {
  await k(['apply', '-f', '-'], podManifest(namespace, name, labels, node));
  const status = { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } };
  await k(['patch', 'pod', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
}

/** A relay on 127.0.0.1 in front of the API server; `cut()` resets every connection and refuses new ones. */
export class Relay {
  private readonly sockets = new Set<Socket>();
  private down = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: string): Promise<Relay> {
    const url = new URL(target);
    const box: { relay?: Relay } = {};
    const server = createServer((client) => {
      const relay = box.relay;
      if (!relay || relay.down) return client.resetAndDestroy();
      const upstream = connect(Number(url.port), url.hostname);
      for (const s of [client, upstream]) {
        relay.sockets.add(s);
        s.on('close', () => relay.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    box.relay = new Relay(server, a && typeof a === 'object' ? a.port : 0);
    return box.relay;
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A copy of `kubeconfig` that reaches the API server through this relay. */
  async kubeconfig(cp: ControlPlane, path: string, from = cp.kubeconfig): Promise<string> {
    const text = await readFile(from, 'utf8');
    await writeFile(path, text.replace(cp.server, `https://127.0.0.1:${this.port}`), { mode: 0o600 });
    return path;
  }
}

/** Polls `f` every 20 ms until it returns a value other than undefined; rejects after `ms`. */
export async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const SERVICE_ACCOUNTS: Resource = { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true };
const ROLES: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true };
const ROLE_BINDINGS: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true };
const CLUSTER_ROLE_BINDINGS: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false };

export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/**
 * Creates namespace `namespace`, ServiceAccount `account` in it, a Role with `rules` bound to it, and
 * returns a token for the account from the TokenRequest API (`serviceaccounts/NAME/token`).
 */
export async function grantAndToken(client: KubeClient, o: { namespace: string; account: string; rules: PolicyRule[] }): Promise<string> {
  const ns = o.namespace;
  const create = await serviceAccount(client, ns, o.account);
  await create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: o.account }, rules: o.rules });
  await create(ROLE_BINDINGS, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: o.account },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: o.account },
    subjects: [{ kind: 'ServiceAccount', name: o.account, namespace: ns }],
  });
  return await tokenFor(client, ns, o.account);
}

/** A ServiceAccount bound (cluster-wide) to the existing ClusterRole `clusterRole`, and a token for it. */
export async function clusterRoleToken(client: KubeClient, o: { namespace: string; account: string; clusterRole: string }): Promise<string> {
  await serviceAccount(client, o.namespace, o.account);
  await client.request(
    'POST',
    resourcePath(CLUSTER_ROLE_BINDINGS),
    { verb: 'create', resource: CLUSTER_ROLE_BINDINGS },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${o.namespace}-${o.account}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: o.clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: o.account, namespace: o.namespace }],
    },
  );
  return await tokenFor(client, o.namespace, o.account);
}

async function serviceAccount(client: KubeClient, ns: string, account: string) {
  await ensureNamespace(client, ns, {});
  const create = (r: Resource, body: Record<string, unknown>) => client.request('POST', resourcePath(r, ns), { verb: 'create', resource: r, namespace: ns }, body);
  await create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account } });
  return create;
}

async function tokenFor(client: KubeClient, ns: string, account: string): Promise<string> {
  const answer = await client.request(
    'POST',
    `${resourcePath(SERVICE_ACCOUNTS, ns, account)}/token`,
    { verb: 'create', resource: SERVICE_ACCOUNTS, namespace: ns, name: account },
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    },
  );
  const token = (answer.status as Record<string, unknown> | undefined)?.token;
  if (typeof token !== 'string') throw new Error('TokenRequest returned no token');
  return token;
}
