import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConntrack } from './system.js';

test('conntrack -L lines: the original direction of TCP, UDP and IPv6 flows; other protocols ignored', () => {
  const text = [
    'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=41234 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=41234 [ASSURED] mark=0 use=1',
    'udp      17 29 src=10.0.0.3 dst=10.0.0.2 sport=5353 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.3 sport=53 dport=5353 mark=0 use=1',
    'tcp      6 119 SYN_SENT src=fd00::1 dst=fd00::2 sport=5000 dport=443 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=443 dport=5000 mark=0 use=1',
    'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1',
    'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.',
  ].join('\n');
  assert.deepEqual(parseConntrack(text), [
    { protocol: 'TCP', source: '10.0.0.1', destination: '10.0.0.2', sourcePort: 41234, destinationPort: 80, state: 'ESTABLISHED' },
    { protocol: 'UDP', source: '10.0.0.3', destination: '10.0.0.2', sourcePort: 5353, destinationPort: 53 },
    { protocol: 'TCP', source: 'fd00::1', destination: 'fd00::2', sourcePort: 5000, destinationPort: 443, state: 'SYN_SENT' },
  ]);
});
