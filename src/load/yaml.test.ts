import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocuments, resolvePlain } from './yaml.js';
import type { PNode } from './yaml.js';
import { plain } from './schema.js';

const docs = (text: string, maxAliasCount?: number) => parseDocuments('f.yaml', text, maxAliasCount === undefined ? {} : { maxAliasCount });
const values = (text: string): unknown[] => docs(text).documents.map(plain);
const codes = (text: string, maxAliasCount?: number) => docs(text, maxAliasCount).diagnostics.map((d) => [d.code, d.line, d.column]);

describe('scalars resolve as kubectl (go-yaml v2) resolves them', () => {
  const cases: [string, unknown][] = [
    ['yes', true],
    ['Yes', true],
    ['on', true],
    ['y', true],
    ['TRUE', true],
    ['no', false],
    ['off', false],
    ['n', false],
    ['~', null],
    ['null', null],
    ['', null],
    ['80', 80],
    ['-12', -12],
    ['+7', 7],
    ['0777', 511],
    ['0x1F', 31],
    ['0o17', 15],
    ['0b101', 5],
    ['1_000', 1000],
    ['08', 8], // not octal: Go falls back to a float
    ['80.0', 80],
    ['80.5', 80.5],
    ['1e3', 1000],
    ['.5', 0.5],
    ['.inf', Infinity],
    ['-.Inf', -Infinity],
    // go-yaml v2 keeps these as strings:
    ['1:20', '1:20'],
    ['12:30', '12:30'],
    ['2024-01-01', '2024-01-01'],
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'],
    ['Off-peak', 'Off-peak'],
    ['web', 'web'],
    ['1.2.3.4', '1.2.3.4'],
    ['0x', '0x'],
    ['-', '-'],
    // not inherited object properties
    ['constructor', 'constructor'],
    ['__proto__', '__proto__'],
    ['toString', 'toString'],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)} -> ${String(want)}`, () => {
      assert.deepEqual(resolvePlain(text), want);
    });
  }

  test('quoted and block scalars are strings; explicit tags win', () => {
    assert.deepEqual(values(`a: "true"\nb: '80'\nc: |\n  yes\nd: !!str 80\ne: !!int "80"\n`), [{ a: 'true', b: '80', c: 'yes\n', d: '80', e: 80 }]);
  });

  test('map keys become strings as in JSON', () => {
    assert.deepEqual(values(`80: a\non: c\n~: d\n.inf: e\n`), [{ '80': 'a', true: 'c', null: 'd', '.inf': 'e' }]);
  });

  test('a plain `y:` key is the boolean true for kubectl, hence the key "true"', () => {
    assert.deepEqual(values(`x: 1\ny: 2\n"n": 3\n`), [{ x: 1, true: 2, n: 3 }]);
  });
});

describe('documents', () => {
  test('multi-document text: empty documents, comment-only documents and null documents are skipped', () => {
    const text = '# head\n---\na: 1\n---\n---\n# only a comment\n---\n~\n---\nb: 2\n...\n---\nc: 3\n';
    assert.deepEqual(values(text), [{ a: 1 }, { b: 2 }, { c: 3 }]);
    assert.deepEqual(codes(text), []);
  });

  test('JSON is YAML', () => {
    assert.deepEqual(values('{"a": [1, 2.5, "x", true, null], "b": {"c": "d"}}'), [{ a: [1, 2.5, 'x', true, null], b: { c: 'd' } }]);
  });

  test('a byte order mark does not shift columns', () => {
    const d = docs('\ufeffa: 1\n').documents[0] as PNode;
    assert.equal(d.kind, 'map');
    assert.deepEqual([d.line, d.column], [1, 1]);
  });

  test('positions: map entries at their key, list items at the item', () => {
    const d = docs('top:\n  list:\n    - x: 1\n    - "s"\n').documents[0];
    assert.ok(d?.kind === 'map');
    const top = d.byKey.get('top');
    assert.deepEqual([top?.line, top?.column], [1, 1]);
    assert.ok(top?.value.kind === 'map');
    const list = top.value.byKey.get('list');
    assert.deepEqual([list?.line, list?.column], [2, 3]);
    assert.ok(list?.value.kind === 'seq');
    assert.deepEqual(
      list.value.items.map((i) => [i.line, i.column]),
      [
        [3, 7],
        [4, 7],
      ],
    );
  });
});

describe('syntax errors', () => {
  test('are YAMLSyntax errors at file:line:column, and the document is dropped', () => {
    const r = docs('apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n bad: y\n');
    assert.deepEqual(r.documents, []);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.file, d.line, d.column]),
      [['error', 'YAMLSyntax', 'f.yaml', 5, 1]],
    );
  });

  test('tabs as indentation', () => {
    assert.deepEqual(codes('a: 1\n\tb: 2\n'), [['YAMLSyntax', 2, 1]]);
  });

  test('other documents of the same text still load', () => {
    const r = docs('a: 1\n---\nb: c: d\n---\ne: 2\n');
    assert.deepEqual(r.documents.map(plain), [{ a: 1 }, { e: 2 }]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.column]),
      [['YAMLSyntax', 3, 4]],
    );
  });

  test('unresolved and recursive aliases', () => {
    assert.deepEqual(codes('a: &x 1\nb: *y\n'), [['YAMLSyntax', 2, 4]]);
    assert.deepEqual(codes('a: &a [1, *a]\n'), [['YAMLSyntax', 1, 11]]);
  });

  test('absurd nesting is an error, not a crash', () => {
    const r = docs(`ok: 1\n---\n${'['.repeat(20000)}${']'.repeat(20000)}\n---\nfine: 2\n`);
    assert.deepEqual(r.documents.map(plain), [{ ok: 1 }, { fine: 2 }]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.line, d.column, d.message]),
      [['error', 'YAMLSyntax', 3, 1, 'the document nests deeper than 200 levels']],
    );
    // Deep block nesting may exhaust the parser's own stack before the depth is measured: still an error.
    const staircase = Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
    const b = docs(staircase);
    assert.deepEqual(b.documents, []);
    assert.deepEqual(
      b.diagnostics.map((d) => [d.severity, d.code]),
      [['error', 'YAMLSyntax']],
    );
    assert.match(b.diagnostics[0]?.message ?? '', /nests/);
  });

  test('nesting up to the bound is fine', () => {
    const r = docs('['.repeat(200) + '1' + ']'.repeat(200));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.documents.length, 1);
    assert.deepEqual(codes('['.repeat(201) + '1' + ']'.repeat(201)), [['YAMLSyntax', 1, 1]]);
  });

  test('aliases cannot stack subtrees deeper than the bound', () => {
    const chain = ['a0: &a0 ' + '['.repeat(150) + '1' + ']'.repeat(150)];
    for (let i = 1; i < 5; i++) chain.push(`a${i}: &a${i} ${'['.repeat(150)}*a${i - 1}${']'.repeat(150)}`);
    const r = docs(chain.join('\n') + '\n');
    assert.deepEqual(r.documents, []);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.column, d.message]),
      [['YAMLSyntax', 1, 1, 'the document nests deeper than 200 levels once its aliases are expanded']],
    );
  });

  test('non-scalar keys', () => {
    assert.deepEqual(codes('? [1]\n: 2\n'), [['YAMLSyntax', 1, 3]]);
  });
});

describe('duplicate keys', () => {
  test('are errors at the second key, worded as kubectl words them', () => {
    const r = docs('metadata:\n  labels:\n    app: a\n    tier: b\n    app: c\n');
    assert.deepEqual(r.documents, []);
    assert.equal(r.diagnostics.length, 1);
    const d = r.diagnostics[0];
    assert.equal(d?.code, 'DuplicateKey');
    assert.equal(d?.message, 'mapping key "app" already defined at line 3');
    assert.deepEqual([d?.line, d?.column], [5, 5]);
  });

  test('every repeat is reported, each naming the first occurrence', () => {
    const r = docs('a: 1\nb: 2\na: 3\na: 4\n');
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.message]),
      [
        ['DuplicateKey', 3, 'mapping key "a" already defined at line 1'],
        ['DuplicateKey', 4, 'mapping key "a" already defined at line 1'],
      ],
    );
  });

  test('keys that are equal as JSON keys are duplicates (80 and "80")', () => {
    assert.deepEqual(codes('80: a\n"80": b\n'), [['DuplicateKey', 2, 1]]);
  });
});

describe('aliases and merge keys', () => {
  test('aliases expand; merge keys merge with explicit keys winning', () => {
    assert.deepEqual(values('base: &b {p: 1, q: 2}\nm:\n  <<: *b\n  q: 3\nl: [*b, *b]\n'), [
      {
        base: { p: 1, q: 2 },
        m: { q: 3, p: 1 },
        l: [
          { p: 1, q: 2 },
          { p: 1, q: 2 },
        ],
      },
    ]);
  });

  test('merge of several maps: the first wins', () => {
    assert.deepEqual(values('a: &a {k: 1}\nb: &b {k: 2, j: 2}\nc:\n  <<: [*a, *b]\n'), [{ a: { k: 1 }, b: { k: 2, j: 2 }, c: { k: 1, j: 2 } }]);
  });

  test('an alias bomb is rejected without being expanded', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = 'abcdefghi';
    for (let i = 1; i < names.length; i++) {
      const prev = names[i - 1];
      levels.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    const r = docs(levels.join('\n') + '\n');
    assert.ok(Date.now() - started < 2000, 'bounded time');
    assert.deepEqual(r.documents, []);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.severity, d.line, d.column]),
      [['YAMLAliasLimit', 'error', 1, 1]],
    );
  });

  test('the alias bound is configurable and counts nested expansions', () => {
    const text = 'a: &a [1]\nb: &b [*a, *a]\nc: [*b, *b]\n'; // c expands 2 + 2*2 aliases, b 2: 8 in all
    assert.deepEqual(codes(text, 8), []);
    assert.deepEqual(codes(text, 7), [['YAMLAliasLimit', 1, 1]]);
    assert.deepEqual(codes(text, -1), []);
    assert.deepEqual(codes(text, 0), [['YAMLAliasLimit', 1, 1]]);
  });
});
