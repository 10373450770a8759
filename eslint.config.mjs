import nx from '@nx/eslint-plugin';

/** Who may import whom. Libs never import apps; a lib is reached only through its index.ts. */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util', 'type:contract'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util', 'type:contract'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util', 'type:contract'] },
  { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:data', 'type:domain', 'type:util', 'type:contract'] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:contract'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contract'] },
  // The inference contract is dependency-free: the ESM runner imports it too.
  { sourceTag: 'type:contract', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:util', 'type:contract'] },
  // The console runs in the browser: it reaches the api over HTTP (its typed client), never a lib.
  { sourceTag: 'type:console', onlyDependOnLibsWithTags: [] },
];

/** Test files may also use the shared test support (type:testing); production code never can. */
const testDepConstraints = depConstraints.map((c) =>
  c.sourceTag === 'type:util' || c.sourceTag === 'type:testing' || c.sourceTag === 'type:contract'
    ? c
    : c.sourceTag === 'type:console'
      ? { ...c, onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:contract', 'type:testing'] }
      : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:testing'] },
);

export default [
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '.gridline/**', 'coverage/**', 'apps/console/src/api/schema.d.ts'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: true, banTransitiveDependencies: false, allow: [], depConstraints },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'tools/bench/**/*.ts', 'apps/*/src/testing/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: true, allow: [], depConstraints: testDepConstraints }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['libs/db/src/migrations/*.ts'],
    rules: { quotes: 'off' },
  },
];
