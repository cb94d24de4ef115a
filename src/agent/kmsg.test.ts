import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseKmsgRecord, parseLogLine, type PacketLine } from './kmsg.js';

/**
 * Records read from /dev/kmsg on Linux 6.18 while TCP, UDP, ICMP and raw protocol-132 packets (IPv4 and
 * IPv6) met `log prefix "netpol deny ...: "` rules on the input and forward hooks of a network namespace.
 */
const CAPTURED = readFileSync(new URL('../../test/fixtures/kmsg/captured.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

function packet(raw: string): PacketLine {
  const record = parseKmsgRecord(raw);
  assert.ok(record, raw);
  const line = parseLogLine(record.message);
  assert.equal(line?.kind, 'packet', raw);
  return line as PacketLine;
}

test('kmsg records: sequence, microseconds, the message line without dictionary lines', () => {
  assert.deepEqual(parseKmsgRecord('4,9682,11852770423,-;hello world\n SUBSYSTEM=net\n'), { seq: 9682, usec: 11852770423, message: 'hello world' });
  assert.deepEqual(parseKmsgRecord('6,1,2,c,extra;x'), { seq: 1, usec: 2, message: 'x' });
  assert.equal(parseKmsgRecord('no semicolon'), undefined);
  assert.equal(parseKmsgRecord('4,x,1,-;m'), undefined);
  assert.equal(parseKmsgRecord('4,1;m'), undefined);
});

test('captured IPv4 TCP and UDP lines (input hook): interfaces, addresses, ports', () => {
  assert.equal(CAPTURED.length, 9);
  assert.deepEqual(packet(CAPTURED[0]!), {
    kind: 'packet',
    action: 'deny',
    chain: 'ingress_x/a-from-b',
    truncated: false,
    in: 'dxb0',
    out: '',
    family: 4,
    source: '10.99.0.1',
    destination: '10.99.0.2',
    protocol: 'TCP',
    sourcePort: 37692,
    destinationPort: 80,
  });
  assert.deepEqual(packet(CAPTURED[1]!), {
    kind: 'packet',
    action: 'deny',
    chain: 'ingress_x/a-from-b',
    truncated: false,
    in: 'dxb0',
    out: '',
    family: 4,
    source: '10.99.0.1',
    destination: '10.99.0.2',
    protocol: 'UDP',
    sourcePort: 55742,
    destinationPort: 53,
  });
});

test('captured IPv6 lines: the kernel writes every group out; addresses come back canonical', () => {
  const tcp = packet(CAPTURED[2]!);
  assert.equal(tcp.family, 6);
  assert.equal(tcp.source, 'fd99::1');
  assert.equal(tcp.destination, 'fd99::2');
  assert.deepEqual([tcp.protocol, tcp.sourcePort, tcp.destinationPort], ['TCP', 40810, 8080]);
  const udp = packet(CAPTURED[3]!);
  assert.deepEqual([udp.protocol, udp.destinationPort], ['UDP', 5353]);
});

test('captured ICMP and ICMPv6 echo: type, code and identifier (ID= after PROTO is the echo id, not the IP id)', () => {
  const v4 = packet(CAPTURED[4]!);
  assert.deepEqual([v4.protocol, v4.icmpType, v4.icmpCode, v4.icmpId, v4.destinationPort], ['ICMP', 8, 0, 4660, undefined]);
  const v6 = packet(CAPTURED[5]!);
  assert.deepEqual([v6.protocol, v6.icmpType, v6.icmpCode, v6.icmpId, v6.family], ['ICMPv6', 128, 0, 4660, 6]);
});

test('captured protocol 132 (SCTP, which the logger does not decode): the number, no ports', () => {
  for (const raw of [CAPTURED[6]!, CAPTURED[7]!]) {
    const p = packet(raw);
    assert.equal(p.protocol, '132');
    assert.equal(p.sourcePort, undefined);
  }
});

test('captured forward-hook line: both interfaces', () => {
  const p = packet(CAPTURED[8]!);
  assert.deepEqual([p.chain, p.in, p.out, p.destination, p.destinationPort], ['egress_x/b', 'dxb0', 'dxb1', '10.98.0.2', 443]);
});

test('audit prefix and a prefix cut short', () => {
  const msg = (CAPTURED[0]!.split(';')[1] ?? '').replace('netpol deny ingress_x/a-from-b: ', 'netpol audit ingress_x/a-from...: ');
  const p = parseLogLine(msg) as PacketLine;
  assert.deepEqual([p.action, p.chain, p.truncated], ['audit', 'ingress_x/a-from', true]);
});

test("the kernel rate limiter's reports are recognised with their count", () => {
  assert.deepEqual(parseLogLine('net_ratelimit: 17 callbacks suppressed'), { kind: 'suppressed', where: 'net_ratelimit', count: 17 });
  assert.deepEqual(parseLogLine('nf_log_buf_close: 3 callbacks suppressed'), { kind: 'suppressed', where: 'nf_log_buf_close', count: 3 });
});

test("strict: other messages, and lines with our prefix but not the kernel's fields, are refused", () => {
  const good = CAPTURED[0]!.split(';')[1]!;
  assert.equal(parseLogLine('eth0: link up'), undefined);
  assert.equal(parseLogLine('netpol denied x: IN=a'), undefined);
  // A field missing, a port out of range, a family mix, words the kernel does not write.
  assert.equal(parseLogLine(good.replace(' SRC=10.99.0.1', '')), undefined);
  assert.equal(parseLogLine(good.replace('DPT=80', 'DPT=70000')), undefined);
  assert.equal(parseLogLine(good.replace('DPT=80 ', '')), undefined);
  assert.equal(parseLogLine(good.replace('DST=10.99.0.2', 'DST=fd99::2')), undefined);
  assert.equal(parseLogLine(good.replace('TTL=64 ', '')), undefined);
  assert.equal(parseLogLine(good.replace('SRC=10.99.0.1', 'SRC=10.99.0.999')), undefined);
  assert.equal(parseLogLine(good.replace(' URGP=0', ' INCOMPLETE [65535 bytes]')), undefined);
  assert.equal(parseLogLine(good.replace('PROTO=TCP', 'PROTO=ICMPv6')), undefined);
  assert.equal(parseLogLine(good.replace('PROTO=TCP', 'PROTO=<script>')), undefined);
  assert.equal(parseLogLine(`${good}\x1b[2J`), undefined);
});
