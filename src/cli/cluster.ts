/**
 * Input from a live cluster, for every analysis command: which cluster (kubectl's kubeconfig rules),
 * which namespaces (`-n`, `-A`, else the context's namespace), and `--overlay` of `-f` files on it.
 * Failures to reach or read the cluster become one clear line and exit 2 (ClusterReadError), with the
 * server's words escaped: they are untrusted text.
 */
import { hasErrors } from '../diag/index.js';
import { KubeApiError, KubeClient, KubeConfigError, KubeUnreachableError, loadKubeConfig, overlayCluster, readCluster, type ResolvedConfig } from '../kube/index.js';
import type { GlobalFlags } from './args.js';
import type { Input } from './input.js';
import { UsageError, type IO } from './io.js';
import { progressLine } from './progress.js';
import { safeText } from './render/escape.js';

/** Reading or reaching the cluster failed; the message is for the user and already escaped. */
export class ClusterReadError extends Error {}

/** Whether the command reads the cluster; refuses `-f` with cluster flags unless `--overlay` asks for both. */
export function usesCluster(flags: GlobalFlags): boolean {
  const files = flags.filenames.length > 0;
  const clusterFlags = [flags.kubeconfig !== undefined ? '--kubeconfig' : '', flags.context !== undefined ? '--context' : ''].filter((x) => x !== '');
  if (flags.overlay) {
    if (!files) throw new UsageError('--overlay applies -f files on top of the cluster: give the files with -f');
    return true;
  }
  if (files && clusterFlags.length > 0) {
    throw new UsageError(`-f reads files and ${clusterFlags.join(' and ')} reads a cluster: use one, or add --overlay to see the cluster as it would be with the files applied`);
  }
  return !files;
}

export type FileReader = (flags: GlobalFlags, io: IO, defaultNamespace: string) => Promise<Input>;

export async function readClusterInput(flags: GlobalFlags, io: IO, scope: 'flags' | 'all', readFiles: FileReader, services = false): Promise<Input> {
  const progress = progressLine(io);
  try {
    const config = await loadKubeConfig({ ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context !== undefined ? { context: flags.context } : {}) });
    const namespace = flags.namespace ?? config.namespace;
    const readNamespace = scope === 'all' || flags.allNamespaces ? undefined : namespace;
    const client = new KubeClient(config);
    const read = await readCluster(client, { ...(readNamespace !== undefined ? { namespace: readNamespace } : {}), progress: (what, d, t) => progress.update(what, d, t), services });
    progress.done();
    if (!flags.overlay) {
      return { cluster: read.cluster, diagnostics: read.diagnostics, unreadable: false, invalid: hasErrors(read.diagnostics), namespace };
    }
    const files = await readFiles(flags, io, namespace);
    const merged = overlayCluster(read.cluster, files.cluster);
    const diagnostics = [...read.diagnostics, ...files.diagnostics, ...merged.diagnostics];
    return { cluster: merged.cluster, diagnostics, unreadable: files.unreadable, invalid: hasErrors(diagnostics), namespace };
  } catch (e) {
    progress.done();
    if (e instanceof KubeConfigError || e instanceof KubeApiError || e instanceof KubeUnreachableError) throw new ClusterReadError(safeText(e.message));
    throw e;
  }
}

/**
 * For commands that stay connected (`watch`, `serve`): the cluster of `--kubeconfig`/`--context`
 * (kubectl's rules; in a pod, its service account) and the namespace to follow: every one with `-A`,
 * else `-n`, else the context's.
 */
export async function followedCluster(flags: GlobalFlags): Promise<{ config: ResolvedConfig; namespace: string | undefined }> {
  let config;
  try {
    config = await loadKubeConfig({ ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context !== undefined ? { context: flags.context } : {}) });
  } catch (e) {
    if (e instanceof KubeConfigError) throw new ClusterReadError(safeText(e.message));
    throw e;
  }
  return { config, namespace: flags.allNamespaces ? undefined : (flags.namespace ?? config.namespace) };
}

/** Failures that retrying will not fix before anything was shown: no rights, no server, bad credentials. */
export function isFatalBeforeSync(e: Error): boolean {
  return e instanceof KubeUnreachableError || (e instanceof KubeApiError && e.status !== 410 && e.status !== 429 && e.status < 500);
}
