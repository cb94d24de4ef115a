/**
 * A real Kubernetes control plane on this machine: etcd and kube-apiserver, started as child processes
 * from binaries built by `scripts/control-plane/build.sh`, listening on loopback only. The lab uses it
 * (`lab up --control-plane`) and so do the tests of everything that talks to Kubernetes: no mock API.
 *
 * Every start makes its own certificate authority, serving certificate, admin client certificate and
 * service-account signing key (openssl), in a private directory removed by `stop()`. Authorization is
 * RBAC, as in a real cluster, so a ServiceAccount is refused what its ClusterRole does not grant. No
 * controller manager runs: nothing creates default ServiceAccounts or finishes namespace deletion, and
 * the ServiceAccount admission plugin (which needs the former) is off.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';

export const K8S_VERSION = 'v1.35.4';
export const ETCD_VERSION = 'v3.6.16';

/** Where build.sh puts the binaries (NETPOL_CONTROL_PLANE_DIR overrides). */
export function controlPlaneDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETPOL_CONTROL_PLANE_DIR) return env.NETPOL_CONTROL_PLANE_DIR;
  const cache = env.NETPOL_CACHE ?? join(homedir(), '.cache', 'netpol');
  return join(cache, 'control-plane', `k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}`);
}

/** Why a control plane cannot start here, or undefined when it can (binaries built, openssl present). */
export function controlPlaneUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = controlPlaneDir(env);
  for (const bin of ['kube-apiserver', 'etcd']) {
    if (!existsSync(join(dir, bin))) return `no ${bin} in ${dir} (build it with scripts/control-plane/build.sh)`;
  }
  return undefined;
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** A kubeconfig file with cluster-admin rights (system:masters), context `netpol-lab`. */
  readonly kubeconfig: string;
  /** The CA that signed the serving certificate (PEM). */
  readonly caPem: string;
  /** The private directory holding certificates, keys, etcd's data and the logs. */
  readonly dir: string;
  /** Writes a kubeconfig that authenticates with `token` (e.g. a ServiceAccount's). */
  writeTokenKubeconfig(path: string, token: string, user: string): Promise<void>;
  /** Kills kube-apiserver (SIGKILL) and starts it again on the same port; resolves when ready. */
  restartApiServer(): Promise<void>;
  /** Kills etcd (SIGKILL) and starts it again on the same data; resolves when the API server answers. */
  restartEtcd(): Promise<void>;
  /** The running etcd and kube-apiserver processes (for a lab that outlives this process). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  readonly binDir?: string;
  /** Extra kube-apiserver flags, e.g. ['--watch-cache=false']. */
  readonly apiServerArgs?: readonly string[];
  /** How long to wait for /readyz (default 90 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Start etcd and kube-apiserver in their own session and let this process exit without them (a lab
   * kept by `lab up`); whoever knows their `pids()` stops them.
   */
  readonly detached?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs openssl (arguments `@file` are files in `cwd`); its stderr in the error when it fails. */
async function openssl(args: readonly string[], cwd: string): Promise<void> {
  const argv = args.map((a) => (a.startsWith('@') ? join(cwd, a.slice(1)) : a));
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', argv, { timeout: 60_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`openssl ${args[0]} failed: ${String(stderr).trim() || error.message}`)) : resolve()));
  });
}

/** CA, serving certificate for 127.0.0.1/localhost, admin client certificate, service-account key pair. */
async function makePki(dir: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '@ca.key', '-out', '@ca.crt', '-days', '2', '-subj', '/CN=netpol-lab-ca'], dir);
  const ext = 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n';
  await writeFile(join(dir, 'serving.ext'), ext);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', '@serving.key', '-out', '@serving.csr', '-subj', '/CN=kube-apiserver'], dir);
  await openssl(['x509', '-req', '-in', '@serving.csr', '-CA', '@ca.crt', '-CAkey', '@ca.key', '-CAcreateserial', '-out', '@serving.crt', '-days', '2', '-extfile', '@serving.ext'], dir);
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', '@admin.key', '-out', '@admin.csr', '-subj', '/O=system:masters/CN=netpol-admin'], dir);
  await openssl(['x509', '-req', '-in', '@admin.csr', '-CA', '@ca.crt', '-CAkey', '@ca.key', '-CAcreateserial', '-out', '@admin.crt', '-days', '2', '-extfile', '@client.ext'], dir);
  await openssl(['genrsa', '-out', '@sa.key', '2048'], dir);
  await openssl(['rsa', '-in', '@sa.key', '-pubout', '-out', '@sa.pub'], dir);
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function kubeconfigText(server: string, caPem: string, user: Record<string, string>, userName: string): string {
  const userLines = Object.entries(user)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  return `apiVersion: v1
kind: Config
clusters:
- name: netpol-lab
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(caPem)}
users:
- name: ${userName}
  user:
${userLines}
contexts:
- name: netpol-lab
  context:
    cluster: netpol-lab
    user: ${userName}
current-context: netpol-lab
`;
}

/** GET path with the admin certificate; resolves with the status code (0 when nothing answers). */
function adminGet(server: string, files: { ca: string; cert: string; key: string }, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server}${path}`, { ca: files.ca, cert: files.cert, key: files.key, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

class Proc {
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();
  constructor(
    private readonly bin: string,
    private readonly args: readonly string[],
    private readonly log: string,
    private readonly detached = false,
  ) {}

  async start(): Promise<void> {
    const fd = openSync(this.log, 'a');
    const child = spawn(this.bin, this.args, { stdio: ['ignore', fd, fd], detached: this.detached });
    closeSync(fd);
    if (this.detached) child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = options.binDir ?? controlPlaneDir();
  const missing = controlPlaneUnavailable(options.binDir ? { NETPOL_CONTROL_PLANE_DIR: binDir } : process.env);
  if (missing) throw new Error(`cannot start a control plane: ${missing}`);
  const dir = await mkdtemp(join(tmpdir(), 'netpol-cp-'));
  await chmod(dir, 0o700);
  const procs: Proc[] = [];
  try {
    await makePki(dir);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = new Proc(
      join(binDir, 'etcd'),
      [
        '--name',
        'netpol-lab',
        '--data-dir',
        join(dir, 'etcd'),
        '--listen-client-urls',
        etcdUrl,
        '--advertise-client-urls',
        etcdUrl,
        '--listen-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-cluster',
        `netpol-lab=http://127.0.0.1:${peerPort}`,
        '--log-level',
        'warn',
        '--unsafe-no-fsync',
      ],
      join(dir, 'etcd.log'),
      options.detached,
    );
    procs.push(etcd);
    await etcd.start();
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = new Proc(
      join(binDir, 'kube-apiserver'),
      [
        '--etcd-servers',
        etcdUrl,
        '--bind-address',
        '127.0.0.1',
        '--advertise-address',
        '127.0.0.1',
        '--secure-port',
        String(apiPort),
        '--cert-dir',
        join(dir, 'apiserver-certs'),
        '--tls-cert-file',
        join(dir, 'serving.crt'),
        '--tls-private-key-file',
        join(dir, 'serving.key'),
        '--client-ca-file',
        join(dir, 'ca.crt'),
        '--service-account-issuer',
        'https://kubernetes.default.svc',
        '--service-account-key-file',
        join(dir, 'sa.pub'),
        '--service-account-signing-key-file',
        join(dir, 'sa.key'),
        '--authorization-mode',
        'Node,RBAC',
        '--disable-admission-plugins',
        'ServiceAccount',
        '--service-cluster-ip-range',
        '10.96.0.0/16',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...(options.apiServerArgs ?? []),
      ],
      join(dir, 'apiserver.log'),
      options.detached,
    );
    procs.push(apiserver);
    const files = {
      ca: await readFile(join(dir, 'ca.crt'), 'utf8'),
      cert: await readFile(join(dir, 'admin.crt'), 'utf8'),
      key: await readFile(join(dir, 'admin.key'), 'utf8'),
    };
    const readyTimeout = options.readyTimeoutMs ?? 90_000;
    const waitReady = async (what: string): Promise<void> => {
      const deadline = Date.now() + readyTimeout;
      while (Date.now() < deadline) {
        if ((await adminGet(server, files, '/readyz')) === 200) return;
        if (!apiserver.running) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const log = await readFile(join(dir, 'apiserver.log'), 'utf8').catch(() => '');
      throw new Error(`kube-apiserver did not become ready (${what}); last log lines:\n${log.split('\n').slice(-15).join('\n')}`);
    };
    await apiserver.start();
    await waitReady('start');
    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, kubeconfigText(server, files.ca, { 'client-certificate-data': b64(files.cert), 'client-key-data': b64(files.key) }, 'netpol-admin'), { mode: 0o600 });
    let stopped = false;
    return {
      server,
      kubeconfig,
      caPem: files.ca,
      dir,
      async writeTokenKubeconfig(path, token, user) {
        await writeFile(path, kubeconfigText(server, files.ca, { token }, user), { mode: 0o600 });
      },
      async restartApiServer() {
        await apiserver.kill();
        await apiserver.start();
        await waitReady('restart');
      },
      async restartEtcd() {
        await etcd.kill();
        await etcd.start();
        await waitReady('etcd restart');
      },
      pids() {
        return [etcd, apiserver].flatMap((p) => (p.running && p.child?.pid !== undefined ? [p.child.pid] : []));
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await apiserver.kill('SIGTERM');
        await etcd.kill('SIGTERM');
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const p of procs.reverse()) await p.kill();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The kubectl built beside the control plane (same release), or `kubectl` from PATH when there is none. */
export function kubectlPath(env: NodeJS.ProcessEnv = process.env): string {
  const built = join(controlPlaneDir(env), 'kubectl');
  return existsSync(built) ? built : 'kubectl';
}
