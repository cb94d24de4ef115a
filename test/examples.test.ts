/**
 * The examples are documentation that is executed: every claim a scenario's README makes is a row of
 * the table under its `## Claims` heading, and here each one goes through the CLI (`netpol check ...
 * -o json`) in-process. Every valid scenario must pass `netpol validate`; every file in examples/broken
 * must fail it with at least the diagnostics its README lists, at the listed positions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netpol as run, type CliResult as Result } from './netpol.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Paths are given (and reported) relative to the repository root, whatever directory the runner uses.
process.chdir(ROOT);
const EXAMPLES = 'examples';
const BROKEN = 'broken';

interface Claim {
  from: string;
  to: string;
  port?: number | string;
  protocol?: string;
  allowed: boolean;
  why: string;
}

interface ExpectedDiagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  path?: string;
}

const netpol = (...argv: string[]): Promise<Result> => run(argv);

/**
 * The rows of the first Markdown table under `## heading` in a README, as records keyed by the header
 * cells. `\|` inside a cell is a literal bar.
 */
function readTable(rel: string, heading: string): Record<string, string>[] {
  const lines = readFileSync(join(ROOT, rel), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === `## ${heading}`);
  assert.ok(at >= 0, `${rel}: no "## ${heading}" section`);
  const table = lines.slice(at + 1).filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((x) => !x.startsWith('## ')));
  const cells = (l: string) =>
    l
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
  const [header, separator, ...rows] = table;
  assert.ok(header && separator && /^\|[-:| ]+\|$/.test(separator), `${rel}: "## ${heading}" has no table`);
  const keys = cells(header);
  return rows.map((r) => Object.fromEntries(cells(r).map((c, i) => [keys[i] ?? `col${i}`, c])));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readClaims(dir: string): Claim[] {
  const rel = `${EXAMPLES}/${dir}/README.md`;
  return readTable(rel, 'Claims').map((row, i) => {
    const where = `${rel} claims row ${i + 1}`;
    assert.ok(row.from && row.to, `${where}: from and to are required`);
    assert.ok(row.allowed === 'yes' || row.allowed === 'no', `${where}: allowed must be yes or no`);
    assert.ok(row.why, `${where}: why is required`);
    const protocol = row.protocol || undefined;
    if (protocol !== undefined) assert.ok(['TCP', 'UDP', 'SCTP'].includes(protocol), `${where}.protocol`);
    const port = row.port ? (/^\d+$/.test(row.port) ? Number(row.port) : row.port) : undefined;
    return { from: row.from, to: row.to, allowed: row.allowed === 'yes', why: row.why, ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) };
  });
}

function readExpectedDiagnostics(): ExpectedDiagnostic[] {
  return readTable(`${EXAMPLES}/${BROKEN}/README.md`, 'Expected diagnostics').map((row) => ({
    file: row.file ?? '',
    line: Number(row.line),
    column: Number(row.column),
    code: row.code ?? '',
    ...(row.path ? { path: row.path } : {}),
  }));
}

function describeClaim(c: Claim): string {
  const port = c.port === undefined ? 'any port' : `${c.port}/${c.protocol ?? 'TCP'}`;
  return `${c.from} -> ${c.to} (${port}) is ${c.allowed ? 'allowed' : 'denied'}`;
}

function parseJson(r: Result, what: string): unknown {
  try {
    return JSON.parse(r.stdout);
  } catch {
    assert.fail(`${what}: stdout is not JSON (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Scenario directories: every directory under examples/ but broken/. */
const scenarios = readdirSync(join(ROOT, EXAMPLES))
  .filter((d) => d !== BROKEN && statSync(join(ROOT, EXAMPLES, d)).isDirectory())
  .sort();

/** Validation warnings a scenario's README promises (scenario -> field paths); none elsewhere are asserted. */
const EXPECTED_WARNINGS: Record<string, string[]> = {
  'ipblock-except-seed': [0, 1, 2].map((i) => `spec.ingress[0].from[0].ipBlock.except[${i}]`),
};

test('the examples directory has scenarios and a broken/ directory', () => {
  assert.ok(scenarios.length >= 10, `found only ${scenarios.length} scenarios: ${scenarios.join(', ')}`);
  assert.ok(existsSync(join(ROOT, EXAMPLES, BROKEN, 'README.md')));
});

for (const dir of scenarios) {
  describe(`examples/${dir}`, () => {
    const claims = readClaims(dir);
    const path = `${EXAMPLES}/${dir}`;

    test('has claims and a README', () => {
      assert.ok(claims.length > 0);
      assert.ok(existsSync(join(ROOT, path, 'README.md')));
    });

    test('validates (exit 0, no errors)', async () => {
      const r = await netpol('validate', '-f', path, '-o', 'json');
      assert.equal(r.code, 0, `validate -f ${path} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      const out = parseJson(r, `validate -f ${path}`);
      assert.ok(isRecord(out) && Array.isArray(out.diagnostics));
      const diagnostics = out.diagnostics as { severity: string; path?: string }[];
      assert.deepEqual(
        diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
      for (const p of EXPECTED_WARNINGS[dir] ?? []) {
        assert.ok(
          diagnostics.some((d) => d.severity === 'warning' && d.path === p),
          `expected a warning at ${p}; got ${JSON.stringify(diagnostics)}`,
        );
      }
    });

    for (const claim of claims) {
      test(describeClaim(claim), async () => {
        const args = ['check', '-f', path, '--from', claim.from, '--to', claim.to, '-o', 'json'];
        if (claim.port !== undefined) args.push('--port', String(claim.port));
        if (claim.protocol !== undefined) args.push('--protocol', claim.protocol);
        const r = await netpol(...args);
        const context = `netpol ${args.join(' ')}\nclaim: ${claim.why}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
        assert.equal(r.code, claim.allowed ? 0 : 1, `exit code\n${context}`);
        const verdict = parseJson(r, 'check');
        assert.ok(isRecord(verdict), context);
        assert.equal(verdict.allowed, claim.allowed, `allowed\n${context}`);
      });
    }
  });
}

test('all valid scenarios load together without conflicts', async () => {
  const args = ['validate', ...scenarios.flatMap((d) => ['-f', `${EXAMPLES}/${d}`]), '-o', 'json'];
  const r = await netpol(...args);
  assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
});

describe('examples/broken', () => {
  const expected = readExpectedDiagnostics();
  const brokenDir = `${EXAMPLES}/${BROKEN}`;
  const files = [...new Set(expected.map((d) => d.file))].sort();

  test('every manifest in broken/ has expected diagnostics', () => {
    const manifests = readdirSync(join(ROOT, brokenDir))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    assert.deepEqual(files, manifests);
  });

  test('validate rejects the directory (exit 1)', async () => {
    const r = await netpol('validate', '-f', brokenDir);
    assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  });

  for (const file of files) {
    test(`validate rejects ${file} with the expected diagnostics`, async () => {
      const path = `${brokenDir}/${file}`;
      const r = await netpol('validate', '-f', path, '-o', 'json');
      assert.equal(r.code, 1, `validate -f ${path} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      const out = parseJson(r, `validate -f ${path}`);
      assert.ok(isRecord(out) && Array.isArray(out.diagnostics), `expected {"diagnostics": [...]}, got ${r.stdout}`);
      const actual = out.diagnostics as Record<string, unknown>[];
      for (const want of expected.filter((d) => d.file === file)) {
        const found = actual.some((d) => d.file === path && d.line === want.line && d.column === want.column && d.code === want.code && (want.path === undefined || d.path === want.path));
        assert.ok(found, `missing ${want.code}${want.path ? ` ${want.path}` : ''} at ${path}:${want.line}:${want.column}\nactual: ${JSON.stringify(actual, null, 2)}`);
      }
    });
  }
});
