import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonitorReader } from './nft-monitor.js';

test('nft monitor output: a transaction that touched the table and was not our own is reported once, at its generation line', () => {
  const reader = new MonitorReader('netpol', (pid) => pid === 100);
  const said = [
    // Our own commit.
    'add element inet netpol peers_1 { 10.0.0.3 }',
    '# new generation 7 by process 100 (nft)',
    // Someone else's table.
    'add table inet other',
    'add chain inet other c',
    '# new generation 8 by process 200 (nft)',
    // Someone else flushing ours; only the first change of the transaction is quoted.
    'delete rule inet netpol forward handle 4',
    'delete rule inet netpol input handle 9',
    '# new generation 9 by process 201 (nft)',
    // A table whose name only starts like ours.
    'delete table inet netpol2',
    '# new generation 10 by process 202 (nft)',
    'delete table inet netpol',
    '# new generation 11 by process 203 (iptables-nft)',
  ].map((line) => reader.line(line));
  assert.deepEqual(
    said.filter((x) => x !== undefined),
    ['nft (pid 201): delete rule inet netpol forward handle 4', 'iptables-nft (pid 203): delete table inet netpol'],
  );
});
