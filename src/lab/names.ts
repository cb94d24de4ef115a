/**
 * Names of everything a lab creates. Every network namespace is `np-<id>-<role>` and every interface
 * starts with `np<id>`, so a lab's objects can be found (and removed) by prefix alone, even when its
 * state file is gone. Interface names must fit Linux's IFNAMSIZ (15 characters); with ids of at most 6
 * characters the longest name, `np<id>p<5 digits>`, is 14. Pure: no IO.
 */

/** Lab ids: 1 to 6 lowercase letters or digits. */
export const LAB_ID_PATTERN = /^[a-z0-9]{1,6}$/;

/** Linux interface names are at most IFNAMSIZ - 1 characters. */
export const MAX_IFNAME = 15;

/** The most pods or nodes a lab can name within MAX_IFNAME. */
export const MAX_INDEX = 99_999;

const NETNS_PATTERN = /^np-([a-z0-9]{1,6})-(n\d+|p\d+|fab)$/;

export function isLabId(id: string): boolean {
  return LAB_ID_PATTERN.test(id);
}

export interface LabNames {
  readonly id: string;
  /** Prefix of every network namespace of the lab. */
  readonly netnsPrefix: string;
  /** Prefix of every interface of the lab. */
  readonly ifPrefix: string;
  nodeNetns(node: number): string;
  podNetns(pod: number): string;
  readonly fabricNetns: string;
  /** The pod's end of its veth (in the pod's namespace). */
  readonly podIf: string;
  /** The node's end of a pod's veth (in the node's namespace). */
  nodePodIf(pod: number): string;
  /** A node's uplink to the fabric (in the node's namespace). */
  readonly uplinkIf: string;
  /** The fabric's end of a node's uplink (in the fabric namespace). */
  fabricPortIf(node: number): string;
  readonly bridgeIf: string;
}

export function labNames(id: string): LabNames {
  if (!isLabId(id)) throw new Error(`invalid lab id ${JSON.stringify(id)}: want 1-6 characters [a-z0-9]`);
  const netnsPrefix = `np-${id}-`;
  const ifPrefix = `np${id}`;
  return {
    id,
    netnsPrefix,
    ifPrefix,
    nodeNetns: (k) => `${netnsPrefix}n${k}`,
    podNetns: (i) => `${netnsPrefix}p${i}`,
    fabricNetns: `${netnsPrefix}fab`,
    podIf: `${ifPrefix}e0`,
    nodePodIf: (i) => `${ifPrefix}p${i}`,
    uplinkIf: `${ifPrefix}up`,
    fabricPortIf: (k) => `${ifPrefix}n${k}`,
    bridgeIf: `${ifPrefix}br`,
  };
}

/** The lab id of a network namespace a lab created, or undefined for any other namespace. */
export function labIdOfNetns(name: string): string | undefined {
  return NETNS_PATTERN.exec(name)?.[1];
}

/** Whether an interface name is one that lab `id` creates (`np<id>` followed by a role). */
export function isLabInterface(name: string, id: string): boolean {
  return name.startsWith(`np${id}`) && /^(e0|up|br|p\d+|n\d+)$/.test(name.slice(2 + id.length));
}

/**
 * A locally administered unicast MAC: 02:6e:70:RR:HH:LL for (role, index mod 65536). MACs only need to be
 * unique per link: each pod veth is a link of its own, and the fabric bridge holds at most MAX_NODES uplinks.
 */
export function labMac(role: number, index: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:6e:70:${hex(role)}:${hex((index >> 8) & 0xff)}:${hex(index & 0xff)}`;
}

/** MAC roles: which end of which link. */
export const MAC_ROLE = { podSide: 1, nodePodSide: 2, uplink: 3, fabricPort: 4 } as const;
