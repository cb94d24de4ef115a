/**
 * The pictures of a matrix: edges are the allowed pairs (labelled by probe when not every probe allows
 * them), namespaces group the nodes, and hostile names stay text in every format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reachability } from '../../engine/index.js';
import { renderDot, renderHtml, renderMermaid } from './picture.js';

const r: Reachability = {
  pods: ['a/web', 'a/api', 'b/db'],
  probes: [
    {
      port: 80,
      protocol: 'TCP',
      allowed: [
        [true, true, false],
        [false, true, true],
        [false, false, true],
      ],
    },
    {
      port: 443,
      protocol: 'TCP',
      allowed: [
        [true, true, false],
        [false, true, false],
        [false, false, true],
      ],
    },
  ],
};

test('dot: one cluster per namespace, an edge per allowed pair, probes on partial edges', () => {
  const dot = renderDot(r);
  assert.match(dot, /^digraph netpol \{/);
  assert.equal((dot.match(/subgraph/g) ?? []).length, 2);
  assert.match(dot, /n0 -> n1;/, 'allowed on every probe: no label');
  assert.match(dot, /n1 -> n2 \[label="TCP\/80"\];/);
  assert.doesNotMatch(dot, /n2 ->|n1 -> n0|n0 -> n2/);
});

test('mermaid: subgraphs and labelled edges', () => {
  const m = renderMermaid(r);
  assert.match(m, /^flowchart LR\n/);
  assert.match(m, /subgraph ns1\["b"\]/);
  assert.match(m, /n0 --> n1\n/);
  assert.match(m, /n1 -->\|"TCP\/80"\| n2/);
});

test('html: self-contained, one table per probe, the graph, nothing fetched', () => {
  const h = renderHtml(r);
  assert.match(h, /Content-Security-Policy" content="default-src 'none'/);
  assert.equal((h.match(/<table>/g) ?? []).length, 2);
  assert.equal((h.match(/<line /g) ?? []).length, 2);
  assert.doesNotMatch(h, /<script|<link|<img|src=|href=|@import|url\(http/i);
});

test('hostile names stay text', () => {
  const evil: Reachability = {
    pods: ['x/<script>alert(1)</script>', 'x/a"b\u001b[2J', 'x/]) --> n9["pwn'],
    probes: [
      {
        port: 80,
        protocol: 'TCP',
        allowed: [
          [true, true, true],
          [true, true, true],
          [true, true, true],
        ],
      },
    ],
  };
  const h = renderHtml(evil);
  assert.doesNotMatch(h, /<script>/);
  assert.match(h, /&#60;script&#62;/);
  assert.ok(!h.includes('\u001b'), 'no raw ESC');
  const dot = renderDot(evil);
  assert.match(dot, /label="a\\"b\\x1b\[2J"/);
  const m = renderMermaid(evil);
  assert.doesNotMatch(m, /\]\) -->/);
  assert.match(m, /n2\["#93;#41; --#62; n9#91;#34;pwn"\]/);
});
