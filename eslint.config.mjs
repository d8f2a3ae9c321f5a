// Lint: typescript-eslint's type-checked recommendations (the ones that fit a codebase of
// typed arrays and zod-validated messages) plus the room boundaries of docs/DEVELOPING.md.
// Formatting is prettier's (.prettierrc.json); `npm run lint` runs both.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'readline',
  'stream',
  'url',
  'util',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'test-output/**',
      'bench/scratch/**',
      'bench/out/**',
      'media/**',
      'sample-workspace/**',
      '.sample-workspace/**',
      '.vscode-test/**',
      'dist-vsix/**',
      '**/*.d.mts',
    ],
  },
  {
    files: ['**/*.{mjs,cjs,js}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks an intentionally unused binding (callbacks with a fixed signature).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Message payloads are parsed with zod at every boundary; `unknown` flows until then.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Async functions without await implement async interfaces (ports, VS Code commands).
      '@typescript-eslint/require-await': 'off',
      // Event handlers return promises on purpose (`void` marks the rest).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowArray: true },
      ],
      // Rethrowing what a catch or an abort signal gave is fine; new throws are Errors.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression[source.value=/^vscode$/]', message: 'import vscode statically (it is external to every bundle)' },
      ],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/engine is pure TypeScript: the vscode API lives in src/extension.' }],
          patterns: [
            { group: ['**/extension/**', '**/webview/**', '**/notebook/**'], message: 'src/engine depends on nothing outside it.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/webview/**/*.{ts,tsx}', 'src/notebook/renderer.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'webviews run in a browser: talk to the host through services/hostClient.ts.' },
            ...NODE_BUILTINS.map((name) => ({ name, message: 'webviews run in a browser: no Node built-ins.' })),
          ],
          patterns: [
            { group: ['node:*'], message: 'webviews run in a browser: no Node built-ins.' },
            {
              group: [
                '**/extension/**',
                '**/notebook/**',
                '!**/notebook/outputs.ts',
                '!**/notebook/format.ts',
                '!**/notebook/rendererProtocol.ts',
              ],
              message: 'webviews share protocol modules with src/engine and the notebook output formats only.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks print whatever they got (rows from DuckDB, replies) in assertion messages.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/restrict-template-expressions': 'off' },
  },
  {
    // The notebook renderer is browser code beside the host code of src/notebook: typed by the
    // webviews' tsconfig, which includes it.
    files: ['src/notebook/renderer.tsx'],
    languageOptions: {
      parserOptions: { projectService: false, project: ['./src/webview/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
);
