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
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']", message: 'focused tests are not allowed' },
      ],
    },
  },
  {
    // The page renders untrusted names as text only (src/web/dom.ts): no markup from strings.
    files: ['src/web/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'write', 'writeln', 'createContextualFragment'].map((property) => ({ property, message: 'untrusted text is rendered as text: use dom.ts' })),
      ],
    },
  },
  {
    // The pure core does no IO: no node:* imports (DESIGN.md habit 1).
    files: ['src/{model,validate,selector,ip,policy,engine,diag,nft,scale,diff,lint,kubectl}/**/*.ts', 'tools/gen/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'child_process'], message: 'the core is pure: no IO imports' }] }],
    },
  },
);
