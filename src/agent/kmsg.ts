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
/**
 * The fields as the kernel writes them: `KEY=value` or bare flag words (`DF`, `SYN`, ...), one space
 * apart (a trailing space allowed). Unambiguous, so matching is linear. An IPv4 fragment or a header cut
 * short prints other words (`INCOMPLETE [65535 bytes]`): not ours to guess.
 */
const FIELDS = /^(?:[A-Z]+(?:=\S*)? )*[A-Z]+(?:=\S*)? ?$/;

const V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Dotted-quad IPv4 without leading zeros: text that is already canonical (no parse needed). */
export function isCanonicalIPv4(text: string): boolean {
  return V4.test(text);
}

/** An address as the kernel prints it, in canonical text: IPv4 (`%pI4`) already is; IPv6 (`%pI6`, every group) is not. */
function address(text: string | undefined): { family: 4 | 6; text: string } | undefined {
  if (text === undefined) return undefined;
  if (V4.test(text)) return { family: 4, text };
  const ip = parseIP(text);
  return ip && ip.family === 6 ? { family: 6, text: formatIP(ip) } : undefined;
}

/** The value of ` KEY=` in `text` (which starts with a space) at or after `from`, up to the next space. */
function field(text: string, key: string, from = 0): string | undefined {
  const at = text.indexOf(` ${key}=`, from);
  if (at < 0) return undefined;
  const start = at + key.length + 2;
  const end = text.indexOf(' ', start);
  return text.slice(start, end < 0 ? undefined : end);
}

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
  const rest = message.slice(m[0].length);
  if (!FIELDS.test(rest)) return undefined;
  // Fields until PROTO are the network header's; after it come the transport header's (ICMP repeats ID=).
  const text = ` ${rest}`;
  const protoAt = text.indexOf(' PROTO=');
  // (No closures here: this runs for every record, and a closure per call costs more than the lookups.)
  const head = protoAt < 0 ? text : text.slice(0, protoAt);
  const inIf = field(head, 'IN');
  const outIf = field(head, 'OUT');
  const src = address(field(head, 'SRC'));
  const dst = address(field(head, 'DST'));
  const proto = protoAt < 0 ? undefined : field(text, 'PROTO', protoAt);
  if (inIf === undefined || outIf === undefined || !src || !dst || src.family !== dst.family || !proto) return undefined;
  const family = src.family;
  // The header fields of each family: one of them missing means this is not a kernel line.
  if (field(head, family === 4 ? 'TTL' : 'HOPLIMIT') === undefined) return undefined;
  const base = {
    kind: 'packet' as const,
    action,
    chain: chain.endsWith('...') ? chain.slice(0, -3) : chain,
    truncated: chain.endsWith('...'),
    in: inIf,
    out: outIf,
    family,
    source: src.text,
    destination: dst.text,
  };
  if (proto === 'TCP' || proto === 'UDP' || proto === 'UDPLITE') {
    const sp = port(field(text, 'SPT', protoAt + 1));
    const dp = port(field(text, 'DPT', protoAt + 1));
    if (sp === undefined || dp === undefined) return undefined;
    return { ...base, protocol: proto, sourcePort: sp, destinationPort: dp };
  }
  if (proto === 'ICMP' || proto === 'ICMPv6') {
    if ((proto === 'ICMP') !== (family === 4)) return undefined;
    const type = field(text, 'TYPE', protoAt + 1);
    const code = field(text, 'CODE', protoAt + 1);
    if (type === undefined || code === undefined || !/^\d{1,3}$/.test(type) || !/^\d{1,3}$/.test(code)) return undefined;
    const id = field(text, 'ID', protoAt + 1);
    return { ...base, protocol: proto, icmpType: Number(type), icmpCode: Number(code), ...(id !== undefined && /^\d{1,5}$/.test(id) ? { icmpId: Number(id) } : {}) };
  }
  if (!/^\d{1,3}$/.test(proto)) return undefined;
  return { ...base, protocol: proto };
}
