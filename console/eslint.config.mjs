import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const browserTestGlobals = Object.fromEntries(
  ['process', 'console', 'URL', 'fetch', 'setTimeout', 'document', 'window', 'location', 'localStorage', 'sessionStorage', 'navigator'].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [...tseslint.configs.strictTypeChecked, reactHooks.configs.flat.recommended],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    // The browser test is a plain Node ES module; the functions it hands the page run there.
    files: ['test/**/*.mjs'],
    languageOptions: { globals: browserTestGlobals },
  },
);
