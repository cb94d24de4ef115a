/** One side's question on the class engine's records: does a group admit a far end, given that end's peers. */
import type { Protocol } from '../model/index.js';
import type { PortProfile } from './ports.js';
import { has, type GroupRec, type IdList } from './records.js';

/** The peers of an endpoint, as ascending lists (a class's pod peers and ipBlock peers). */
export type PeerLists = readonly IdList[];

/** Does one side (group `g`) admit the far end (its peers) on the port, for a destination with `profile`? */
export function sideAdmits(g: GroupRec, other: PeerLists, profile: PortProfile, protocol: Protocol, port: number | string): boolean {
  if (g.any && g.any.admits(protocol, port, profile)) return true;
  let n = 0;
  for (const list of other) n += list.length;
  if (n <= g.table.size) {
    for (const list of other) {
      for (const q of list) {
        const agg = g.table.get(q);
        if (agg && agg.admits(protocol, port, profile)) return true;
      }
    }
  } else {
    for (const [q, agg] of g.table) if (other.some((list) => has(list, q)) && agg.admits(protocol, port, profile)) return true;
  }
  return false;
}
