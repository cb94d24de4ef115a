/** Pod and Namespace (core/v1) on the fast path: addresses, container ports, the Namespace's spec and status. */
import { formatIP, parseIPSloppy } from '../../ip/index.js';
import { PROTOCOLS, type NamedPort, type PodInfo, type Protocol } from '../../model/index.js';
import { int32, isRec, list, onlyKeys, str, strList, type Rec } from './fields.js';
import { give } from './unsupported.js';

export function podIPs(status: unknown): string[] {
  if (status === undefined || status === null) return [];
  if (!isRec(status)) give('status is not a map');
  const candidates: string[] = [];
  const podIP = str(status, 'podIP');
  if (podIP) candidates.push(podIP);
  for (const p of list(status.podIPs, 'podIPs') ?? []) {
    if (!isRec(p)) give('podIPs');
    const ip = str(p, 'ip');
    if (ip) candidates.push(ip);
  }
  const out: string[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const text = candidates[k]!;
    if (candidates.indexOf(text) < k) continue; // the same text again (`podIP` is `podIPs[0]`)
    let canonical = text;
    if (!canonicalV4(text)) {
      const ip = parseIPSloppy(text);
      if (!ip) give('an invalid pod IP');
      canonical = formatIP(ip);
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/**
 * An IPv4 address written as `formatIP` writes one (four decimal octets, no leading zeros): parsing
 * and formatting would give the text back.
 */
export function canonicalV4(text: string): boolean {
  return canonicalV4Value(text) >= 0;
}

/** The address of a `canonicalV4` text as a number (0 to 2^32 - 1), or -1 for any other text. */
function canonicalV4Value(text: string): number {
  const n = text.length;
  let parts = 0;
  let value = 0;
  let k = 0;
  for (;;) {
    const start = k;
    let v = 0;
    while (k < n) {
      const c = text.charCodeAt(k);
      if (c < 48 || c > 57) break;
      v = v * 10 + c - 48;
      k++;
    }
    const len = k - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && text.charCodeAt(start) === 48)) return -1;
    parts++;
    value = value * 256 + v;
    if (k === n) return parts === 4 ? value : -1;
    if (parts === 4 || text.charCodeAt(k) !== 46) return -1;
    k++;
  }
}

/**
 * The addresses of pods not on their node's network, gathered as the pods are decoded, to find one used
 * twice, as `sharedAddresses` (src/load) would report it: canonical IPv4 texts (one text per address)
 * as numbers, sorted once at the end; other texts in a set.
 */
export class PodAddresses {
  private v4 = new Uint32Array(4096);
  private n = 0;
  private readonly others = new Set<string>();
  private twice = false;

  add(pod: PodInfo): void {
    if (pod.hostNetwork === true) return;
    for (const ip of pod.ips) {
      const value = canonicalV4Value(ip);
      if (value < 0) {
        if (this.others.size === this.others.add(ip).size) this.twice = true;
        continue;
      }
      if (this.n === this.v4.length) {
        const grown = new Uint32Array(2 * this.n);
        grown.set(this.v4);
        this.v4 = grown;
      }
      this.v4[this.n++] = value;
    }
  }

  /** Whether an address was added twice (`sharedAddresses` of the pods added is not empty). */
  shared(): boolean {
    if (this.twice) return true;
    const sorted = this.v4.subarray(0, this.n).sort();
    for (let k = 1; k < this.n; k++) if (sorted[k] === sorted[k - 1]) return true;
    return false;
  }
}

/** Whether `sharedAddresses(pods)` reports anything (PodAddresses on these pods). */
export function anySharedAddress(pods: readonly PodInfo[]): boolean {
  const addresses = new PodAddresses();
  for (const p of pods) addresses.add(p);
  return addresses.shared();
}

export function podSpec(spec: unknown): { ports: NamedPort[]; nodeName?: string; hostNetwork?: boolean } {
  if (spec === undefined || spec === null) return { ports: [] };
  if (!isRec(spec)) give('spec is not a map');
  const ports: NamedPort[] = [];
  for (const field of CONTAINER_FIELDS) {
    for (const c of list(spec[field], field) ?? []) {
      if (!isRec(c)) give('a container is not a map');
      str(c, 'name');
      for (const p of list(c.ports, 'ports') ?? []) {
        if (!isRec(p)) give('a container port is not a map');
        onlyKeys(p, CONTAINER_PORT_KEYS, 'ports');
        int32(p.hostPort, 'hostPort');
        str(p, 'hostIP');
        const name = str(p, 'name');
        const port = int32(p.containerPort, 'containerPort');
        const protocol = str(p, 'protocol') ?? 'TCP';
        if (port === undefined || port < 1 || port > 65535) give('an invalid container port');
        if (!(PROTOCOLS as readonly string[]).includes(protocol)) give('an invalid container port protocol');
        ports.push(name ? { name, port, protocol: protocol as Protocol } : { port, protocol: protocol as Protocol });
      }
    }
  }
  const nodeName = str(spec, 'nodeName');
  const hostNetwork = spec.hostNetwork;
  if (hostNetwork !== undefined && hostNetwork !== null && typeof hostNetwork !== 'boolean') give('hostNetwork');
  const out: { ports: NamedPort[]; nodeName?: string; hostNetwork?: boolean } = { ports };
  if (nodeName) out.nodeName = nodeName;
  if (typeof hostNetwork === 'boolean') out.hostNetwork = hostNetwork;
  return out;
}

/** Pod and Namespace: the top-level fields their shapes declare. */
export const OBJECT_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const CONTAINER_FIELDS = ['containers', 'initContainers'] as const;
const CONTAINER_PORT_KEYS = new Set(['name', 'hostPort', 'containerPort', 'protocol', 'hostIP']);

/** v1.NamespaceSpec (only finalizers) and v1.NamespaceStatus's phase, as `kubectl get -o yaml` dumps them. */
export function namespaceSpecAndStatus(o: Rec): void {
  if (o.spec !== undefined && o.spec !== null) {
    if (!isRec(o.spec)) give('spec is not a map');
    onlyKeys(o.spec, new Set(['finalizers']), 'spec');
    strList(o.spec.finalizers, 'finalizers');
  }
  if (o.status !== undefined && o.status !== null) {
    if (!isRec(o.status)) give('status is not a map');
    str(o.status, 'phase');
  }
}
