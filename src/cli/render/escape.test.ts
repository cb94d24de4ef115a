import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, htmlText, isSafeText, markdownCell, safeText } from './escape.js';

const CONTROLS = [...Array(0x20).keys(), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)].map((c) => String.fromCharCode(c));
const BIDI = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];

test('no control or bidi character reaches any rendering raw', () => {
  for (const c of [...CONTROLS, ...BIDI]) {
    const name = `web${c}x`;
    for (const render of [safeText, csvField, markdownCell, htmlText]) {
      const out = render(name);
      assert.ok(!out.includes(c), `${render.name} let U+${c.charCodeAt(0).toString(16)} through: ${JSON.stringify(out)}`);
    }
  }
});

test('escapes are visible and unambiguous', () => {
  assert.equal(safeText('a\x1b[2Jb'), 'a\\x1b[2Jb');
  assert.equal(safeText('\u202egnp.exe'), '\\u{202e}gnp.exe');
  assert.equal(safeText('a\\x1b'), 'a\\\\x1b');
  assert.equal(safeText('plain-name.v1'), 'plain-name.v1');
  assert.equal(isSafeText('plain'), true);
  assert.equal(isSafeText('a\x07'), false);
});

test('CSV quotes per RFC 4180 and neutralises formulas', () => {
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvField('-12'), '-12');
  assert.equal(csvField('line\nbreak'), 'line\\x0abreak');
});

test('Markdown cells cannot end the cell or become markup', () => {
  assert.equal(markdownCell('a|b'), 'a\\|b');
  assert.equal(markdownCell('<img src=x>'), '&lt;img src=x&gt;');
  assert.equal(markdownCell('**bold**'), '\\*\\*bold\\*\\*');
});

test('HTML text never carries markup', () => {
  assert.equal(htmlText(`<script>alert('x')</script>&"`), '&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#38;&#34;');
});
