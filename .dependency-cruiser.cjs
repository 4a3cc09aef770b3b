// The import rule of src/ (issue 20): each stage imports only from stages below it, nothing
// imports in a cycle, and src/shared imports nothing else from src. Run by `npm test`
// (test/architecture.test.ts); by hand: npx depcruise src --config .dependency-cruiser.cjs
//
// Stages, lowest first; stages in one row are peers and may import each other (no cycles).
// identity is its naming; certificate machinery that needs more may move higher.
const STAGES = [
  ['shared'],
  ['diagnostics'],
  ['files', 'envoy'],
  ['parser'],
  ['ir'],
  ['passes'],
  ['identity'],
  ['emit'],
  ['compiler'],
  ['lint', 'review', 'inject', 'sources'],
  ['serve'],
  ['cli'],
];

const folders = (names) => `^src/(${names.join('|')})/`;

const layerRules = STAGES.slice(0, -1).map((row, i) => ({
  name: `${row.join('-')}-imports-only-lower-stages`,
  comment: `${row.join(', ')} may import only ${STAGES.slice(0, i).flat().join(', ') || 'nothing else in src'} (and its peers): not ${STAGES.slice(i + 1).flat().join(', ')}`,
  severity: 'error',
  // A test may import whatever it needs to build its input (a proto test compiles a mesh).
  from: { path: folders(row), pathNot: '\\.test\\.ts$' },
  to: { path: folders(STAGES.slice(i + 1).flat()) },
}));

const known = STAGES.flat();

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules of src import each other in a cycle.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'shared-imports-nothing-else',
      comment: 'src/shared is the lowest layer: it imports nothing else from src.',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'every-folder-has-a-stage',
      comment: `Every folder of src is one of the stages (${known.join(', ')}); a new one needs its place in .dependency-cruiser.cjs.`,
      severity: 'error',
      from: { path: '^src/' },
      to: { path: `^src/(?!(${known.join('|')})/)[^/]+/` },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|\\.generated\\.js$' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    moduleSystems: ['es6', 'cjs'],
  },
};
