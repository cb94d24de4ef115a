/**
 * The probes a diff asks about when the user names none: every port any policy of either side names
 * (a number, the first port of an `endPort` range, or a port name, with its protocol), plus "any port"
 * for each protocol that appears (TCP always). Pure: no IO.
 */
import { PROTOCOLS, type Cluster, type Protocol } from '../model/index.js';
import type { DiffProbe } from './reachability.js';

export function defaultProbes(clusters: readonly Cluster[], only?: ReadonlySet<Protocol>): DiffProbe[] {
  const numbers = new Map<Protocol, Set<number>>();
  const names = new Map<Protocol, Set<string>>();
  const protocols = new Set<Protocol>(['TCP']);
  for (const c of clusters) {
    for (const p of c.policies) {
      for (const rule of [...(p.policy.spec.ingress ?? []), ...(p.policy.spec.egress ?? [])]) {
        for (const port of rule.ports ?? []) {
          const protocol = (port.protocol ?? 'TCP') as Protocol;
          protocols.add(protocol);
          if (typeof port.port === 'number') add(numbers, protocol, port.port);
          else if (typeof port.port === 'string') {
            // An IntOrString written as a quoted number is a number.
            if (/^\d+$/.test(port.port)) add(numbers, protocol, Number(port.port));
            else add(names, protocol, port.port);
          }
        }
      }
    }
  }
  const out: DiffProbe[] = [];
  for (const protocol of PROTOCOLS) {
    if (!protocols.has(protocol) || (only && !only.has(protocol))) continue;
    for (const n of [...(numbers.get(protocol) ?? [])].sort((a, b) => a - b)) out.push({ port: n, protocol });
    for (const s of [...(names.get(protocol) ?? [])].sort()) out.push({ port: s, protocol });
    out.push({ port: null, protocol });
  }
  return out;
}

function add<T>(m: Map<Protocol, Set<T>>, protocol: Protocol, v: T): void {
  let s = m.get(protocol);
  if (!s) m.set(protocol, (s = new Set()));
  s.add(v);
}

export function probeText(p: DiffProbe): string {
  return `${p.protocol}/${p.port === null ? 'any port' : p.port}`;
}
