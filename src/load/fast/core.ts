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
 * Whether `sharedAddresses(pods)` (src/load) reports anything: an address twice among the pods not on
 * their node's network. IPv4 addresses in canonical form, one text per address, are compared as
 * numbers in a sorted array; other texts through a set.
 */
export function anySharedAddress(pods: readonly PodInfo[]): boolean {
  let count = 0;
  for (const p of pods) if (p.hostNetwork !== true) count += p.ips.length;
  const v4 = new Uint32Array(count);
  let n = 0;
  const others = new Set<string>();
  for (const p of pods) {
    if (p.hostNetwork === true) continue;
    for (const ip of p.ips) {
      const value = canonicalV4Value(ip);
      if (value >= 0) v4[n++] = value;
      else if (others.size === others.add(ip).size) return true;
    }
  }
  const sorted = v4.subarray(0, n).sort();
  for (let k = 1; k < n; k++) if (sorted[k] === sorted[k - 1]) return true;
  return false;
}

export function podSpec(spec: unknown): { ports: NamedPort[]; nodeName?: string; hostNetwork?: boolean } {
  if (spec === undefined || spec === null) return { ports: [] };
  if (!isRec(spec)) give('spec is not a map');
  const ports: NamedPort[] = [];
  for (const field of ['containers', 'initContainers']) {
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
  return {
    ports,
    ...(nodeName ? { nodeName } : {}),
    ...(typeof hostNetwork === 'boolean' ? { hostNetwork } : {}),
  };
}

/** Pod and Namespace: the top-level fields their shapes declare. */
export const OBJECT_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
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
