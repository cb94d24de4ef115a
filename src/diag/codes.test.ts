import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DIAGNOSTIC_CODES, diagnosticCodesMarkdown, isDiagnosticCode } from './codes.js';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

test('docs/diagnostics.md is the table of codes (npm run docs:codes writes it)', () => {
  assert.equal(doc('diagnostics.md'), diagnosticCodesMarkdown());
});

test('every code docs/cli.md names is in the table, and each has a meaning', () => {
  const text = doc('cli.md');
  const paragraph = text.slice(text.indexOf('\nCodes ('), text.indexOf('\n\n', text.indexOf('\nCodes (')));
  const named = [...paragraph.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]!);
  assert.ok(named.length >= 10, named.join());
  for (const c of named) assert.ok(isDiagnosticCode(c), `${c} is not a diagnostic code`);
  for (const [code, meaning] of Object.entries(DIAGNOSTIC_CODES)) assert.match(meaning, /\.$/, code);
  assert.equal(isDiagnosticCode('toString'), false);
});
