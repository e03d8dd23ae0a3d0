// ESLint flat config: typescript-eslint's recommended rules everywhere, plus type-aware promise
// rules for lib/ and test/. Formatting is Prettier's job, not ESLint's.
// Run with `npm run lint`.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig(
  globalIgnores([
    'dist/',
    'build/',
    'build-*/',
    'deps/',
    'prebuilds/',
    'coverage/',
    'bench/.models/',
    'bench/.cache/',
    'models/training/.work/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (positional parameters, destructuring rests).
      // Off: the code matches control characters on purpose (path sanitising, ASCII checks,
      // Python's whitespace set in the tokenizer tests); every such regex is intended.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // CommonJS helpers (child processes spawned by tests) load modules with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Type-aware promise rules for the library and its tests (tsconfig.eslint.json gives both
    // type information): a dropped promise in lib/ loses an error; in a test, an un-awaited
    // `expect(...).rejects` is an assertion that can never fail.
    files: ['lib/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.eslint.json'], tsconfigRootDir: root } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }] },
  },
);
