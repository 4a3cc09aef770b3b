#!/usr/bin/env node
// The strict floor of a compile and of a lint (issue 21), as a process of its own that the CLI is
// compared with, command for command (bench/compile.ts --cli):
//
//   node bench/compile-floor.mjs INPUT_DIR                                  # lint's floor
//   node bench/compile-floor.mjs INPUT_DIR --objects FILE --out DIR         # compile's floor
//
// Lint's floor: a bare `node` start, reading the input files and parsing them with js-yaml
// (loadAll, the core schema, as the parser's fast path does). Compile's floor adds serialising
// the compiler's output objects with js-yaml (the writer's options: src/compiler/output-tree.ts
// `serialise`) and writing them as the same tree (mkdir, one writeFileSync a file). The objects
// come from FILE (bench/compile.ts writes it from an untimed compile of the same input): reading
// and JSON-parsing it is not part of the floor, so it is timed here (wall and CPU) and printed for
// the caller to subtract from what /usr/bin/time measured of the whole process.
//
// Plain JavaScript on purpose: nothing but node and js-yaml is loaded. Prints one JSON line.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const started = performance.now(); // ms since the process began: node's own start-up
const cpu0 = process.cpuUsage();
const { default: jsyaml } = await import('js-yaml');
const loaded = performance.now();

const [input, ...rest] = process.argv.slice(2);
const opt = (name) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
const objectsFile = opt('--objects');
const outDir = opt('--out');
if (!input || (objectsFile && !outDir)) {
  process.stderr.write('usage: node bench/compile-floor.mjs INPUT_DIR [--objects FILE --out DIR]\n');
  process.exit(2);
}

const cpuMs = (u) => (u.user + u.system) / 1000;

// Not floor: the objects to serialise, as the compiler built them (timed, to be subtracted).
let excludedWallMs = 0;
let excludedCpuMs = 0;
let dump;
if (objectsFile) {
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  dump = JSON.parse(readFileSync(objectsFile, 'utf8'));
  // Shared objects are shared again, as in the compiler's output (js-yaml's noRefs writes each use in full).
  for (const p of dump.proxies) for (const f of p.files) f[1] = Array.isArray(f[1]) ? f[1].map((i) => dump.objects[i]) : dump.objects[f[1]];
  excludedCpuMs = cpuMs(process.cpuUsage(c0));
  excludedWallMs = performance.now() - w0;
}

const t0 = performance.now();
const files = readdirSync(input, { recursive: true })
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const texts = files.map((f) => readFileSync(join(input, f), 'utf8'));
const t1 = performance.now();
let documents = 0;
for (const text of texts) jsyaml.loadAll(text, () => void documents++, { schema: jsyaml.CORE_SCHEMA });
const t2 = performance.now();

let serialiseMs = 0;
let writeMs = 0;
let bytes = 0;
let written = 0;
if (dump) {
  for (const p of dump.proxies) {
    const s0 = performance.now();
    const out = p.files.map(([name, value]) => [name, jsyaml.dump(value, { lineWidth: -1, noRefs: true, indent: 2 })]);
    const s1 = performance.now();
    mkdirSync(join(outDir, p.dir), { recursive: true });
    for (const [name, text] of out) {
      writeFileSync(join(outDir, p.dir, name), text);
      bytes += Buffer.byteLength(text);
      written++;
    }
    writeMs += performance.now() - s1;
    serialiseMs += s1 - s0;
  }
}
const end = performance.now();

process.stdout.write(
  `${JSON.stringify({
    startMs: started,
    loadMs: loaded - started,
    readMs: t1 - t0,
    parseMs: t2 - t1,
    serialiseMs,
    writeMs,
    documents,
    files: written,
    bytes,
    excludedWallMs,
    excludedCpuMs,
    wallMs: end - excludedWallMs,
    cpuMs: cpuMs(process.cpuUsage(cpu0)) - excludedCpuMs,
  })}\n`,
);
