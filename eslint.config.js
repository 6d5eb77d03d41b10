// Lint: typescript-eslint strict type-checked, and the layer rules of DESIGN.md:
// the pure layers (tree, merge, journal replay) import no file system, database or FUSE.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Later blocks replace a rule's options for their files: each repeats this one.
const noCli = { group: ['**/cli/*'], message: 'src/ never imports the command line' };
/** src/daemon joins a volume and its views into processes: only the command line is above it. */
const noDaemon = { group: ['../daemon/*'], message: 'only the command line imports src/daemon' };

const impure = ['node:fs', 'node:fs/promises', 'fs', 'fs/promises', 'lmdb'];
const noFuse = { group: ['**/fuse/*'], message: 'the pure layers import no FUSE' };
/** A layer's imports of the layers above it (DESIGN.md's layout). */
const above = (layer, ...layers) => ({
  group: layers.map((l) => `../${l}/*`),
  message: `src/${layer} imports nothing above it (${layers.join(', ')})`,
});

/** Two layers side by side: neither imports the other. */
const beside = (layer, other) => ({
  group: [`../${other}/*`],
  message: `src/${layer} and src/${other} sit side by side: neither imports the other`,
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The engine and the layers below it never reach up into the command line.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noCli, noDaemon] }],
    },
  },
  {
    files: ['src/tree/**/*.ts', 'src/merge/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: impure, patterns: [noCli, noFuse, noDaemon] }],
    },
  },
  {
    // The store is the bottom layer but for the pure tree model: it imports nothing above it.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../tree', '!../tree/*', '!../errors.js'],
              message: 'src/store imports only the tree model and errors (nothing above it)',
            },
            noCli,
          ],
        },
      ],
    },
  },
  {
    // The scanner reads a replica through its Lister port: nothing above it.
    files: ['src/scan/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            above('scan', 'replica', 'sync', 'agent', 'volume', 'view', 'fuse', 'daemon'),
            noCli,
          ],
        },
      ],
    },
  },
  {
    files: ['src/replica/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [above('replica', 'sync', 'agent', 'volume', 'view', 'fuse', 'daemon'), noCli],
        },
      ],
    },
  },
  {
    // The agent is the remote's transport and the calls it makes for sync-dirs and the
    // Lister; the volume's own calls (volume/agent-ops.ts) live in the volume, above it.
    files: ['src/agent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [above('agent', 'volume', 'view', 'fuse', 'daemon'), noCli] },
      ],
    },
  },
  {
    files: ['src/sync/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [above('sync', 'agent', 'volume', 'view', 'fuse', 'daemon'), noCli] },
      ],
    },
  },
  {
    // The FUSE binding and its handler table serve whatever view they are given: they know
    // neither the volume nor the read-only views.
    files: ['src/fuse/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [above('fuse', 'volume', 'view', 'daemon'), noCli] },
      ],
    },
  },
  {
    // A volume and the read-only views of a store sit side by side, neither importing the
    // other: what joins them (a volume's daemon serving its .tether/ views, a view following a
    // mounted volume) is src/daemon, above both.
    files: ['src/view/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [beside('view', 'volume'), noDaemon, noCli] }],
    },
  },
  {
    files: ['src/volume/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [beside('volume', 'view'), noDaemon, noCli] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
