import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'scripts/tmp-local/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']", message: 'focused tests are not allowed' }],
    },
  },
  {
    // The page renders untrusted names as text only (src/web/dom.ts): no markup from strings.
    files: ['src/web/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'write', 'writeln', 'createContextualFragment'].map((property) => ({
          property,
          message: 'untrusted text is rendered as text: use dom.ts',
        })),
      ],
    },
  },
  ...moduleBoundaries(),
);

/**
 * Module boundaries: code in src/ reaches another module only through that module's index.ts (its
 * public face; `load/node.ts` is the loader's IO entry, kept apart so the pure library entry stays pure),
 * and the pure core does no IO (DESIGN.md habit 1: no node:* imports). One rule holds both, because ESLint
 * replaces, not merges, a rule's options between config blocks. The boundary is read from the import's
 * shape: from a file `depth` folders below src/, `../` repeated `depth` times leaves the module, and what
 * follows must be `MODULE/index.js` (a file at src/'s root is an entry, not a module). Inside a module
 * (`./x.js`, `../x.js` from a subfolder) anything goes. Tests beside the code may reach test/'s builders.
 * tools/ (development tools) imports src/ through the same indexes.
 *
 * One exception, by design: src/server answers with the CLI's own commands (check, matrix, the
 * escaping), so the page's answers are the CLI's by construction; cli/index.ts re-exports the program,
 * which starts the server, so going through it would be an import cycle.
 */
function moduleBoundaries() {
  const PURE = ['model', 'validate', 'selector', 'ip', 'policy', 'engine', 'diag', 'nft', 'scale', 'diff', 'lint', 'kubectl'];
  const io = { group: ['node:*', 'fs', 'path', 'child_process'], message: 'the core is pure: no IO imports' };
  const boundary = (up, allowed = 'load/node\\.js$') => ({
    regex: `^${up}(?!test/|${allowed})[^./][^/]*/(?!index\\.js$)`,
    message: 'another module is entered through its index.ts (export what you need there)',
  });
  const blocks = [];
  for (let depth = 0; depth <= 3; depth++) {
    const up = depth === 0 ? '\\./' : '(\\.\\./)'.concat(`{${depth}}`);
    const under = '*/'.repeat(depth);
    blocks.push({ files: [`src/${under}*.ts`], ignores: ['src/web/**'], rules: { 'no-restricted-imports': ['error', { patterns: [boundary(up)] }] } });
    if (depth > 0) {
      const inner = '*/'.repeat(depth - 1);
      blocks.push({
        files: PURE.map((m) => `src/${m}/${inner}*.ts`),
        ignores: ['**/*.test.ts'],
        rules: { 'no-restricted-imports': ['error', { patterns: [boundary(up, 'test/'), io] }] },
      });
    }
  }
  blocks.push({ files: ['src/server/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [boundary('(\\.\\./){1}', 'load/node\\.js$|cli/')] }] } });
  blocks.push({ files: ['tools/gen/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [boundary('\\.\\./\\.\\./src/', 'test/'), io] }] } });
  return blocks;
}
