/**
 * The kernel log lines of netpol's drop log, parsed strictly. Pure: no IO (src/agent/kmsg-reader.ts reads
 * /dev/kmsg).
 *
 * Design choice: nftables' `log` statement without a group writes one kernel log record per packet, and
 * /dev/kmsg hands each record to a reader as one `read()`: `PRI,SEQ,USEC,FLAGS;MESSAGE`, then optional
 * dictionary lines that begin with a space (Documentation/ABI/testing/dev-kmsg). The message is the
 * rule's prefix followed by the packet as the kernel's syslog logger (nf_log_syslog) prints it, e.g.
 *
 *   netpol deny ingress_x/a: IN=eth0 OUT= MAC=... SRC=10.0.0.1 DST=10.0.0.2 LEN=60 TOS=0x00 PREC=0x00
 *   TTL=64 ID=36177 DF PROTO=TCP SPT=37692 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0
 *
 * IPv6 lines carry `TC= HOPLIMIT= FLOWLBL=` instead of `TOS= PREC= TTL= ID=` and print addresses with every
 * group written out (`fd99:0000:...:0001`); ICMP and ICMPv6 carry `TYPE= CODE=` (and `ID= SEQ=` for
 * echo); protocols the logger does not decode (SCTP among them) print only `PROTO=<number>`. The parser
 * takes what attribution needs (interfaces, addresses, protocol, ports, ICMP type) and refuses a line
 * whose prefix is ours but whose fields are not what the kernel writes, so a malformed or forged line
 * never becomes an event with made-up endpoints.
 *
 * Besides our lines the kernel's rate limiter reports what it dropped as `FUNC: N callbacks suppressed`
 * (lib/ratelimit.c); those are counted as lost.
 */
import { formatIP, parseIP } from '../ip/index.js';

/** One record of /dev/kmsg. */
export interface KmsgRecord {
  /** Sequence number: a gap means records were overwritten before they were read. */
  readonly seq: number;
  /** Microseconds since boot (the kernel's local clock). */
  readonly usec: number;
  /** The message line, without the dictionary lines and with the kernel's `\xNN` escapes kept. */
  readonly message: string;
}

/** `PRI,SEQ,USEC,FLAGS[,...];MESSAGE` (the first line of a read); undefined when it is not that. */
export function parseKmsgRecord(text: string): KmsgRecord | undefined {
  const semi = text.indexOf(';');
  if (semi < 0) return undefined;
  const head = text.slice(0, semi).split(',');
  if (head.length < 4) return undefined;
  const [pri, seq, usec] = head;
  if (!/^\d+$/.test(pri ?? '') || !/^\d+$/.test(seq ?? '') || !/^\d+$/.test(usec ?? '')) return undefined;
  const nl = text.indexOf('\n', semi);
  return { seq: Number(seq), usec: Number(usec), message: text.slice(semi + 1, nl < 0 ? undefined : nl) };
}

/** What our log prefixes say: `netpol deny <chain>: ` (enforced) and `netpol audit <chain>: ` (audit mode). */
export type LogAction = 'deny' | 'audit';

export interface PacketLine {
  readonly kind: 'packet';
  readonly action: LogAction;
  /** The chain as the prefix names it; `truncated` when the prefix was cut short (ends in `...`). */
  readonly chain: string;
  readonly truncated: boolean;
  /** Interfaces: `in` empty on output, `out` empty on input. */
  readonly in: string;
  readonly out: string;
  readonly family: 4 | 6;
  /** Canonical text of the addresses (as src/ip formats them). */
  readonly source: string;
  readonly destination: string;
  /** `TCP`, `UDP`, `UDPLITE`, `ICMP`, `ICMPv6`, or the protocol number the kernel printed. */
  readonly protocol: string;
  readonly sourcePort?: number;
  readonly destinationPort?: number;
  /** ICMP and ICMPv6: type and code; for echo, the identifier. */
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly icmpId?: number;
}

export interface SuppressedLine {
  readonly kind: 'suppressed';
  readonly count: number;
  readonly where: string;
}

const PREFIX = /^netpol (deny|audit) (\S+): /;
const SUPPRESSED = /^(\S+): (\d+) callbacks suppressed$/;
/** `KEY=value` or a bare flag word (`DF`, `SYN`, ...). */
const FIELD = /^([A-Z]+)=(\S*)$|^[A-Z]+$/;

function port(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 65535 ? n : undefined;
}

/**
 * One kernel log message: ours (`packet`), a rate limiter's report (`suppressed`), or undefined for
 * anything else (other prefixes, or a line with our prefix that is not what the kernel writes).
 */
export function parseLogLine(message: string): PacketLine | SuppressedLine | undefined {
  const s = SUPPRESSED.exec(message);
  if (s) return { kind: 'suppressed', where: s[1]!, count: Number(s[2]) };
  const m = PREFIX.exec(message);
  if (!m) return undefined;
  const action = m[1] as LogAction;
  const chain = m[2]!;
  // Fields until PROTO are unique; after it the transport header's fields follow (ICMP repeats ID=).
  const fields = new Map<string, string>();
  const after = new Map<string, string>();
  let seenProto = false;
  for (const word of message.slice(m[0].length).trim().split(' ')) {
    if (word === '') continue;
    const f = FIELD.exec(word);
    // An IPv4 fragment or a cut-short header prints words such as `INCOMPLETE [65535 bytes]`: not ours to guess.
    if (!f) return undefined;
    if (f[1] === undefined) continue;
    const target = seenProto ? after : fields;
    if (f[1] === 'PROTO' && !seenProto) {
      fields.set('PROTO', f[2]!);
      seenProto = true;
      continue;
    }
    if (!target.has(f[1])) target.set(f[1], f[2]!);
  }
  const inIf = fields.get('IN');
  const outIf = fields.get('OUT');
  const src = parseIP(fields.get('SRC') ?? '');
  const dst = parseIP(fields.get('DST') ?? '');
  const proto = fields.get('PROTO');
  if (inIf === undefined || outIf === undefined || !src || !dst || src.family !== dst.family || !proto) return undefined;
  const family = src.family;
  // The header fields of each family: one of them missing means this is not a kernel line.
  if (family === 4 ? !fields.has('TTL') : !fields.has('HOPLIMIT')) return undefined;
  const base = { kind: 'packet' as const, action, chain: chain.endsWith('...') ? chain.slice(0, -3) : chain, truncated: chain.endsWith('...'), in: inIf, out: outIf, family, source: formatIP(src), destination: formatIP(dst) };
  if (proto === 'TCP' || proto === 'UDP' || proto === 'UDPLITE') {
    const sp = port(after.get('SPT'));
    const dp = port(after.get('DPT'));
    if (sp === undefined || dp === undefined) return undefined;
    return { ...base, protocol: proto, sourcePort: sp, destinationPort: dp };
  }
  if (proto === 'ICMP' || proto === 'ICMPv6') {
    if ((proto === 'ICMP') !== (family === 4)) return undefined;
    const type = after.get('TYPE');
    const code = after.get('CODE');
    if (type === undefined || code === undefined || !/^\d{1,3}$/.test(type) || !/^\d{1,3}$/.test(code)) return undefined;
    const id = after.get('ID');
    return { ...base, protocol: proto, icmpType: Number(type), icmpCode: Number(code), ...(id !== undefined && /^\d{1,5}$/.test(id) ? { icmpId: Number(id) } : {}) };
  }
  if (!/^\d{1,3}$/.test(proto)) return undefined;
  return { ...base, protocol: proto };
}
