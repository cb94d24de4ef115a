/**
 * Renderings of lint findings: one line per finding for a terminal (compilers' `file:line:col` order),
 * JSON, and SARIF 2.1.0 for code scanning (the rules with their descriptions in
 * `runs[0].tool.driver.rules`, each result with its ruleId, level and the file and line of the offending
 * object or field).
 */
import type { Finding, LintRule } from '../../lint/index.js';
import { safeText } from './escape.js';

export function lintCounts(findings: readonly Finding[]): { error: number; warning: number; note: number } {
  const c = { error: 0, warning: 0, note: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

export function renderLintText(findings: readonly Finding[], suppressed: number): string {
  const lines = findings.map((f) => {
    const where = f.file !== undefined ? `${f.file}${f.line !== undefined ? `:${f.line}:${f.column ?? 1}` : ''}: ` : '';
    return safeText(`${where}${f.severity}: ${f.object}: ${f.path !== undefined ? `${f.path}: ` : ''}${f.message} [${f.rule}]`);
  });
  const c = lintCounts(findings);
  lines.push(`${c.error} error(s), ${c.warning} warning(s), ${c.note} note(s)${suppressed ? `; ${suppressed} suppressed by ${'netpol.dev/lint-disable'} annotations` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function renderLintJson(findings: readonly Finding[], suppressed: number): string {
  return `${JSON.stringify({ findings, counts: lintCounts(findings), suppressed })}\n`;
}

/** A SARIF artifact URI: relative paths stay relative (to the repository root, %SRCROOT%), absolute ones become file: URIs. */
function artifact(file: string): { uri: string; uriBaseId?: string } | undefined {
  if (file === '<stdin>' || file === '-') return undefined;
  const git = /^git:[^:]+:(.*)$/.exec(file);
  const path = (git ? git[1]! : file).replace(/\\/g, '/');
  if (path.startsWith('/')) return { uri: `file://${encodeURI(path)}` };
  return { uri: encodeURI(path.replace(/^\.\//, '')), uriBaseId: '%SRCROOT%' };
}

export function renderSarif(findings: readonly Finding[], rules: readonly LintRule[], version: string): string {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'netpol',
            version,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: r.summary },
              fullDescription: { text: r.description },
              help: { text: `${r.description} See docs/lint/${r.id}.md.` },
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        results: findings.map((f) => {
          const a = f.file !== undefined ? artifact(f.file) : undefined;
          return {
            ruleId: f.rule,
            ruleIndex: index.get(f.rule),
            level: f.severity,
            message: { text: `${f.object}: ${f.path !== undefined ? `${f.path}: ` : ''}${f.message}` },
            locations: [
              {
                ...(a ? { physicalLocation: { artifactLocation: a, region: { startLine: f.line ?? 1, startColumn: f.column ?? 1 } } } : {}),
                logicalLocations: [{ fullyQualifiedName: `${f.object}${f.path !== undefined ? `/${f.path}` : ''}`, kind: 'object' }],
              },
            ],
          };
        }),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
