/**
 * Which cluster, which user, which namespace: kubeconfig resolution as kubectl does it.
 *
 * Design choice: parsing kubeconfig files and authenticating (client certificates, tokens, exec
 * plugins, OIDC, in-cluster service-account tokens) are @kubernetes/client-node's job; what is ours is
 * the order kubectl follows, which the client library does not quite share:
 * - `--kubeconfig FILE` alone, else every file of `KUBECONFIG` (missing ones skipped, the first file to
 *   define a cluster, user, context or `current-context` wins), else `~/.kube/config`, else the pod's
 *   service account (`KUBERNETES_SERVICE_HOST` and the mounted token); never a silent localhost guess;
 * - `--context NAME` picks a context, which must exist;
 * - the namespace is `-n`, else the context's namespace, else `default`.
 * Failures are `KubeConfigError`s with a message meant for the user.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

export class KubeConfigError extends Error {}

export interface KubeConfigOptions {
  /** `--kubeconfig FILE`. */
  readonly kubeconfig?: string;
  /** `--context NAME`. */
  readonly context?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ResolvedConfig {
  readonly kc: KubeConfig;
  /** The context used (`inClusterContext` in a pod). */
  readonly context: string;
  readonly server: string;
  /** The context's namespace, or `default`. */
  readonly namespace: string;
  /** Where the configuration came from, for messages. */
  readonly origin: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The client library is imported here, on first use, and nowhere else: it is about 800 modules and half
 * a second of start-up (measured on the CI machine: `--version` 0.7 s before), which every command that
 * reads only files, and every agent of a lab, would otherwise pay.
 */
export async function loadKubeConfig(opts: KubeConfigOptions = {}): Promise<ResolvedConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  return resolve(() => new KubeConfig(), opts);
}

function resolve(newConfig: () => KubeConfig, opts: KubeConfigOptions): ResolvedConfig {
  const env = opts.env ?? process.env;
  const kc = newConfig();
  let origin: string;
  if (opts.kubeconfig !== undefined) {
    if (!existsSync(opts.kubeconfig)) throw new KubeConfigError(`--kubeconfig ${opts.kubeconfig}: no such file`);
    loadFile(kc, opts.kubeconfig);
    origin = opts.kubeconfig;
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '' && existsSync(f));
    if (files.length === 0) throw new KubeConfigError(`KUBECONFIG=${env.KUBECONFIG}: none of its files exists`);
    mergeFiles(kc, files, newConfig);
    origin = `KUBECONFIG=${env.KUBECONFIG}`;
  } else {
    const home = env.HOME ?? homedir();
    const file = join(home, '.kube', 'config');
    if (existsSync(file)) {
      loadFile(kc, file);
      origin = file;
    } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(SERVICE_ACCOUNT_TOKEN)) {
      kc.loadFromCluster();
      origin = "the pod's service account";
    } else {
      throw new KubeConfigError(`no cluster to read: no -f files, no --kubeconfig, no KUBECONFIG, no ${file}, and not running in a pod`);
    }
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context))
      throw new KubeConfigError(
        `--context ${opts.context}: no such context in ${origin} (contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getCurrentContext();
  if (!context) throw new KubeConfigError(`${origin} sets no current-context; choose one with --context`);
  const ctx = kc.getContextObject(context);
  if (!ctx) throw new KubeConfigError(`${origin}: current-context ${JSON.stringify(context)} is not defined`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new KubeConfigError(`${origin}: context ${JSON.stringify(context)} refers to cluster ${JSON.stringify(ctx.cluster)}, which is not defined`);
  if (!kc.getUser(ctx.user) && ctx.user) throw new KubeConfigError(`${origin}: context ${JSON.stringify(context)} refers to user ${JSON.stringify(ctx.user)}, which is not defined`);
  return { kc, context, server: cluster.server, namespace: ctx.namespace || 'default', origin };
}

function loadFile(kc: KubeConfig, file: string): void {
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw new KubeConfigError(`${file}: not a usable kubeconfig: ${(e as Error).message}`);
  }
}

/** kubectl's merge: the first file to set a value wins; later files only add what is still missing. */
function mergeFiles(kc: KubeConfig, files: readonly string[], newConfig: () => KubeConfig): void {
  loadFile(kc, files[0] as string);
  for (const file of files.slice(1)) {
    const next = newConfig();
    loadFile(next, file);
    if (!kc.getCurrentContext() && next.getCurrentContext()) kc.setCurrentContext(next.getCurrentContext());
    for (const c of next.getClusters()) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of next.getUsers()) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const c of next.getContexts()) if (!kc.getContextObject(c.name)) kc.addContext(c);
  }
}
