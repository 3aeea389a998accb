// Lint: type-aware rules plus the import boundaries of DESIGN.md §8.
// Libraries (kmip, crypto, luks, nbd, common) import no service; services (kms, center, agent)
// never import each other: they talk over KMIP, HTTPS and NBD. Only the CLI wires services up.
import tseslint from 'typescript-eslint';

const services = ['kms', 'center', 'agent', 'cli'];
const libraries = ['kmip', 'crypto', 'luks', 'nbd', 'disk', 'common'];

function forbid(dirs, message) {
  return {
    'no-restricted-imports': [
      'error',
      { patterns: dirs.map((d) => ({ group: [`**/${d}/*`, `../${d}`, `../../${d}`], message })) },
    ],
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', 'web/**', '.cryptvisor/**', 'scripts/**', 'bin/**', '*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...libraries.map((lib) => ({
    files: [`src/${lib}/**/*.ts`],
    rules: forbid(services, `src/${lib} is a library: it imports no service (DESIGN.md §8)`),
  })),
  ...['kms', 'center', 'agent'].map((svc) => ({
    files: [`src/${svc}/**/*.ts`],
    rules: forbid(
      services.filter((s) => s !== svc),
      `src/${svc} is a service: services never import each other (DESIGN.md §8)`,
    ),
  })),
);
