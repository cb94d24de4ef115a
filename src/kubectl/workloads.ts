/**
 * Workloads as kubectl names them (`deploy/web`, `sts/db`): which pods of a loaded cluster are a
 * workload's replicas. Pure.
 *
 * Design choice: pods read from a workload's manifest carry a reference to it; pods dumped from a
 * cluster (`kubectl get pods -o yaml`) are recognised by the names their controllers give them.
 */
import type { Cluster, PodInfo } from '../model/index.js';

export const WORKLOAD_KINDS: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  replicaset: 'ReplicaSet',
  rs: 'ReplicaSet',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  job: 'Job',
  cronjob: 'CronJob',
  cj: 'CronJob',
  replicationcontroller: 'ReplicationController',
  rc: 'ReplicationController',
};

/**
 * The pods of a workload `ns/kind/name` (kind as kubectl spells it: `deployment`, `deploy`, `sts`, ...):
 * pods loaded from that workload's manifest, and Pods that look like its replicas as kubectl dumps them
 * (a Deployment's pods are named `<name>-<pod-template-hash>-<suffix>` and carry that hash as a label;
 * a StatefulSet's `<name>-<ordinal>`). Undefined when the text is not of that form or the kind unknown.
 */
export function workloadPods(cluster: Cluster, text: string): PodInfo[] | undefined {
  const parts = text.split('/');
  if (parts.length !== 3) return undefined;
  const [namespace, kindText, name] = parts as [string, string, string];
  const kind = WORKLOAD_KINDS[kindText.toLowerCase()];
  if (kind === undefined || namespace === '' || name === '') return undefined;
  return cluster.pods.filter((p) => {
    if (p.namespace !== namespace) return false;
    if (p.workload) return p.workload.kind === kind && p.workload.name === name;
    if (kind === 'Deployment') {
      const hash = p.labels['pod-template-hash'];
      return hash !== undefined && p.name.startsWith(`${name}-${hash}-`);
    }
    if (kind === 'ReplicaSet') return p.name.startsWith(`${name}-`) && p.name.length - name.length === 6;
    if (kind === 'StatefulSet') return p.name.startsWith(`${name}-`) && /^[0-9]+$/.test(p.name.slice(name.length + 1));
    return false;
  });
}
