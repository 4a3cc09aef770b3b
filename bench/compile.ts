/**
 * Compile benchmark: the compiler at several mesh sizes, restrictive and permissive, each
 * run in a fresh child process so that peak RSS belongs to that run alone.
 *
 *   npx tsx bench/compile.ts [SIZES...] [--modes restrictive,permissive] [--repeat 3]
 *       [--format yaml|json] [--json] [--max-output-gb 20] [--heap-mb 8192] [--keep] [--yaml-ast]
 *       [--out-dir DIR]   # where inputs and outputs go: /dev/shm (tmpfs) by default
 *       [--no-write]      # compile only (no render, write, or floor serialise/write): for
 *                         # sizes whose output tree does not fit in memory or on disk
 *   npx tsx bench/compile.ts --table saved.json...   # the table again, from --json outputs
 *
 * SIZES default to 250 1000 5000. For each size and mode the parent generates the mesh
 * (bench/generate-mesh.ts) into a temp directory, then starts `--repeat` children. Each child:
 *   1. reads the input files (fs), compiles them (the compiler's own per-phase timings), and
 *      writes the output tree the way `smi-compile -o` does; records peak RSS right then;
 *   2. measures the FLOOR on the same input and output: the same files read again, parsed
 *      with the library the parser uses for clean documents (js-yaml `loadAll`, core schema),
 *      and the same resource objects serialised by the compiler's own `serialise` (the
 *      writer's library and options) and written with plain fs writes, same layout.
 *      `--yaml-ast` also times `yaml`'s parseAllDocuments (AST + positions) as a reference.
 * The floor runs after the compile in the same process, so its libraries are warm: a
 * conservative (low) floor. Times are the best of the repeats; RSS is the median.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import jsyaml from 'js-yaml';
import { LineCounter, parseAllDocuments, stringify } from 'yaml';
import { generateMesh, writeMesh } from './generate-mesh.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = join(HERE, '..', 'src');

type Mode = 'restrictive' | 'permissive';
type Format = 'yaml' | 'json';

/** What one child reports (one JSON line on stdout). */
export interface RunResult {
  readonly services: number;
  readonly mode: Mode;
  readonly inputFiles: number;
  readonly inputBytes: number;
  readonly proxies: number;
  readonly resources: number;
  readonly diagnostics: { readonly error: number; readonly warning: number; readonly info: number };
  readonly firstErrors: readonly string[];
  readonly outputFiles: number;
  readonly outputBytes: number;
  /** Importing the compiler's modules (tsx transpile included), not part of `wall`. */
  readonly loadMs: number;
  /** read + compile + render + write, in the child (not the untimed flush before the write). */
  readonly wallMs: number;
  /** read (ours), the compiler's own phases, render and write (ours). */
  readonly phases: Readonly<Record<string, number>>;
  /** KiB, from process.resourceUsage().maxRSS right after the write. */
  readonly maxRssKiB: number;
  /** KiB, peak RSS right after compile(), before the write: what the compiler itself needed. */
  readonly rssCompileKiB: number;
  readonly heapUsedMiB: number;
  readonly floor: {
    readonly readMs: number;
    readonly parseMs: number;
    /** The writer's serialise on every file. */
    readonly serialiseMs: number;
    /** mkdir + writeFileSync of those strings. */
    readonly writeMs: number;
    /** read + parse + serialise + write (the flush between is not counted). */
    readonly totalMs: number;
    readonly bytes: number;
    /** With --yaml-ast: `yaml` parseAllDocuments (AST + positions) on the same files; a reference, not in the floor. */
    readonly yamlAstMs?: number;
  };
  /** Child process wall time as seen by the parent, including Node and module start-up. */
  processMs?: number;
}

// ── the compiler, loaded lazily so this file type-checks and runs its floor-only parts even
//    while the compiler's modules are moving ──────────────────────────────────────────────

interface CompilerApi {
  compile(inputs: { path: string; text: string }[], options: Record<string, unknown>): {
    proxies: readonly Proxy[];
    diagnostics: readonly { code: string; level: string; message: string; source?: { file: string; line: number; column: number } }[];
    timings?: Record<string, number>;
  };
  write(proxies: readonly Proxy[], outDir: string, format: Format): { files: number; bytes: number };
  /** When the writer has two steps (output-tree.ts): serialise everything, then the fs part. */
  render?(proxies: readonly Proxy[], format: Format): ReadonlyMap<string, string>;
  writeTree?(tree: ReadonlyMap<string, string>, outDir: string): { files: number; bytes: number };
  serialise(value: unknown, format: Format): string;
}
interface Proxy {
  readonly namespace: string;
  readonly workload: string;
  readonly resources: Readonly<Record<string, readonly unknown[]>>;
  readonly bootstrap: unknown;
}

const XDS_KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;

async function tryImport(rel: string): Promise<Record<string, any> | undefined> {
  const file = join(SRC, rel);
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as Record<string, any>;
}

/** Only if the writer exports no `serialise`: what it did before it moved to js-yaml. */
function fallbackSerialise(value: unknown, format: Format): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return stringify(value, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

export async function loadCompiler(): Promise<CompilerApi> {
  const c = await tryImport('compiler/compile.ts');
  if (!c?.compile) throw new Error('src/compiler/compile.ts has no compile() yet');
  const w = await tryImport('compiler/write-output.ts');
  const t = await tryImport('compiler/output-tree.ts');
  let write: CompilerApi['write'];
  if (w?.writeOutput) write = w.writeOutput;
  else if (t?.renderTree && t?.writeTree) write = (proxies, outDir, format) => t.writeTree(t.renderTree(proxies, format), outDir);
  else throw new Error('no writer: neither write-output.ts writeOutput() nor output-tree.ts renderTree()/writeTree()');
  const serialise = (t?.serialise as CompilerApi['serialise'] | undefined) ?? fallbackSerialise;
  if (!w?.writeOutput && t?.renderTree && t?.writeTree) return { compile: c.compile, write, serialise, render: t.renderTree, writeTree: t.writeTree };
  return { compile: c.compile, write, serialise };
}

// ── child ────────────────────────────────────────────────────────────────────

/** `sync(1)`: write back dirty pages now, outside any timed section. */
function flush(): void {
  try {
    execFileSync('sync');
  } catch {
    // no sync(1): figures just get noisier
  }
}

function readInputs(dir: string): { path: string; text: string }[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ path: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
}

async function child(args: { input: string; out: string; services: number; mode: Mode; format: Format; yamlAst: boolean; noWrite: boolean }): Promise<RunResult> {
  const tLoad = performance.now();
  const api = await loadCompiler();
  const loadMs = performance.now() - tLoad;

  // ── the compiler ──
  const t0 = performance.now();
  const inputs = readInputs(args.input);
  const t1 = performance.now();
  const result = api.compile(inputs, {});
  const t2 = performance.now();
  const rssCompileKiB = process.resourceUsage().maxRSS;
  const hasErrors = result.diagnostics.some((d) => d.level === 'error');
  const compiledDir = join(args.out, 'compiled');
  // The write: serialise (CPU) and the fs part timed apart when the writer has two steps.
  // Dirty pages of earlier runs are flushed first (untimed) so one run's writeback does not
  // land on the next one's clock.
  flush();
  const t2b = performance.now();
  let written = { files: 0, bytes: 0 };
  let renderMs: number | undefined;
  if (args.noWrite) {
    // compile only: the output of this size does not fit (see --no-write)
  } else if (!hasErrors && api.render && api.writeTree) {
    const tree = api.render(result.proxies, args.format);
    renderMs = performance.now() - t2b;
    written = api.writeTree(tree, compiledDir);
  } else if (!hasErrors) {
    written = api.write(result.proxies, compiledDir, args.format);
  }
  const t3 = performance.now();
  const maxRssKiB = process.resourceUsage().maxRSS;
  const heapUsedMiB = process.memoryUsage().heapUsed / 2 ** 20;

  const phases: Record<string, number> = { read: t1 - t0 };
  const timings = result.timings ?? {};
  for (const [k, v] of Object.entries(timings)) if (typeof v === 'number') phases[k] = v;
  const inCompile = Object.values(timings).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  if (t2 - t1 - inCompile > 1) phases.other = t2 - t1 - inCompile; // compile() time no phase claimed
  if (renderMs !== undefined) phases.render = renderMs;
  phases.write = t3 - t2b - (renderMs ?? 0);
  // The compiled tree is not needed any more: free the space (a tmpfs is RAM) before the floor.
  rmSync(compiledDir, { recursive: true, force: true });

  // ── the floor: same bytes in, same bytes out, nothing in between ──
  const f0 = performance.now();
  const again = readInputs(args.input);
  const f1 = performance.now();
  // The parser's fast path (src/parser/fast-load.ts) loads each clean document with js-yaml's
  // core schema; `yaml` (with positions) only runs for documents that need it. So the floor
  // is js-yaml on the whole files.
  let docs = 0;
  for (const f of again) jsyaml.loadAll(f.text, (d) => void (docs += d ? 1 : 0), { schema: jsyaml.CORE_SCHEMA });
  const f2 = performance.now();
  // Serialise every file with the writer's own function, then write them plainly.
  const texts: [string, string][] = [];
  for (const p of args.noWrite ? [] : result.proxies) {
    const dir = `${p.namespace}/${p.workload}`;
    for (const kind of XDS_KINDS) texts.push([`${dir}/${kind}.${args.format}`, api.serialise(p.resources[kind] ?? [], args.format)]);
    texts.push([`${dir}/bootstrap.${args.format}`, api.serialise(p.bootstrap, args.format)]);
  }
  const f3a = performance.now();
  flush();
  const f3b = performance.now();
  let floorBytes = 0;
  const floorDir = join(args.out, 'floor');
  let lastDir = '';
  for (const [file, text] of texts) {
    const path = join(floorDir, file);
    const dir = dirname(path);
    if (dir !== lastDir) mkdirSync((lastDir = dir), { recursive: true });
    writeFileSync(path, text);
    floorBytes += Buffer.byteLength(text);
  }
  const f3 = performance.now();
  void docs;
  // Reference, not part of the floor: the same files through `yaml`'s AST with positions
  // (what the parser falls back to, and what it used to do for every document).
  let yamlAstMs: number | undefined;
  if (args.yamlAst) {
    const y0 = performance.now();
    for (const f of again) parseAllDocuments(f.text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: true });
    yamlAstMs = performance.now() - y0;
  }

  const count = (level: string) => result.diagnostics.filter((d) => d.level === level).length;
  return {
    services: args.services,
    mode: args.mode,
    inputFiles: inputs.length,
    inputBytes: inputs.reduce((n, f) => n + Buffer.byteLength(f.text), 0),
    proxies: result.proxies.length,
    resources: result.proxies.reduce((n, p) => n + XDS_KINDS.reduce((m, k) => m + (p.resources[k]?.length ?? 0), 0), 0),
    diagnostics: { error: count('error'), warning: count('warning'), info: count('info') },
    firstErrors: result.diagnostics
      .filter((d) => d.level === 'error')
      .slice(0, 5)
      .map((d) => `${d.code} ${d.message}${d.source ? ` (${d.source.file}:${d.source.line})` : ''}`),
    outputFiles: written.files,
    outputBytes: written.bytes,
    loadMs,
    wallMs: t3 - t2b + (t2 - t0),
    phases,
    maxRssKiB,
    rssCompileKiB,
    heapUsedMiB,
    floor: {
      readMs: f1 - f0,
      parseMs: f2 - f1,
      serialiseMs: f3a - f2,
      writeMs: f3 - f3b,
      totalMs: f1 - f0 + (f2 - f1) + (f3a - f2) + (f3 - f3b),
      bytes: floorBytes,
      yamlAstMs,
    },
  };
}

// ── parent ───────────────────────────────────────────────────────────────────

interface Summary {
  readonly services: number;
  readonly mode: Mode;
  readonly runs: RunResult[];
  readonly skipped?: string;
  readonly failed?: string;
}

function runChild(args: string[], heapMb: number, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const cp = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    cp.stdout.on('data', (d) => (out += d));
    cp.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => cp.kill('SIGKILL'), timeoutMs);
    cp.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`child ${signal ? `killed (${signal})` : `exited ${code}`}: ${err.trim().split('\n').slice(-8).join('\n')}`));
        return;
      }
      const r = JSON.parse(line) as RunResult;
      r.processMs = performance.now() - t0;
      resolvePromise(r);
    });
  });
}

const min = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Best (minimum) of each figure over the repeats; RSS as the median. */
function best(runs: RunResult[]) {
  const phaseKeys = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  const phases: Record<string, number> = {};
  for (const k of phaseKeys) phases[k] = min(runs.map((r) => r.phases[k] ?? 0));
  return {
    wallMs: min(runs.map((r) => r.wallMs)),
    floorMs: min(runs.map((r) => r.floor.totalMs)),
    floorParseMs: min(runs.map((r) => r.floor.parseMs)),
    floorWriteMs: min(runs.map((r) => r.floor.writeMs)),
    floorSerialiseMs: min(runs.map((r) => r.floor.serialiseMs ?? 0)),
    yamlAstMs: runs.every((r) => r.floor.yamlAstMs !== undefined) ? min(runs.map((r) => r.floor.yamlAstMs!)) : undefined,
    loadMs: min(runs.map((r) => r.loadMs)),
    processMs: min(runs.map((r) => r.processMs ?? 0)),
    maxRssMiB: median(runs.map((r) => r.maxRssKiB / 1024)),
    rssCompileMiB: median(runs.map((r) => (r.rssCompileKiB ?? 0) / 1024)),
    rssRangeMiB: [min(runs.map((r) => r.maxRssKiB / 1024)), Math.max(...runs.map((r) => r.maxRssKiB / 1024))],
    phases,
  };
}

/** Milliseconds as `1234` up to 10 s, then `12.3s`. */
function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

function printTable(summaries: Summary[], repeat: number, outRoot: string): void {
  const phaseOrder = ['read', 'parse', 'build', 'passes', 'emit', 'protoCheck', 'other', 'render', 'write'];
  const seen = new Set(summaries.flatMap((s) => s.runs.flatMap((r) => Object.keys(r.phases))));
  const phases = [...phaseOrder.filter((p) => seen.has(p)), ...[...seen].filter((p) => !phaseOrder.includes(p)).sort()].filter(
    // `other` (compile() time no phase claimed) only when it is ever worth a column
    (p) => p !== 'other' || summaries.some((s) => s.runs.length && best(s.runs).phases.other >= 5),
  );
  const head = ['services', 'mode', 'runs', 'proxies', 'resources', 'out MB', 'wall ms', 'floor ms', 'wall/floor', 'ms/out MB', 'RSS MiB', 'RSS compile', ...phases.map((p) => `${p}`), 'fl.parse', 'fl.serialise', 'fl.write'];
  const withAst = summaries.some((s) => s.runs.length && s.runs.every((r) => r.floor.yamlAstMs !== undefined));
  if (withAst) head.push('yaml AST');
  const rows = [head];
  const notes: string[] = [];
  for (const s of summaries) {
    if (!s.runs.length) {
      rows.push([String(s.services), s.mode, '0', s.skipped ? 'skipped' : 'FAILED', ...head.slice(4).map(() => '')]);
      notes.push(`${s.services} ${s.mode}: ${s.skipped ?? s.failed}`);
      continue;
    }
    const b = best(s.runs);
    const r = s.runs[0];
    const outMB = r.outputBytes / 1e6;
    rows.push([
      String(s.services),
      s.mode,
      String(s.runs.length),
      String(r.proxies),
      String(r.resources),
      outMB > 0 ? outMB.toFixed(1) : 'not written',
      fmtMs(b.wallMs),
      fmtMs(b.floorMs),
      outMB > 0 ? `${(b.wallMs / b.floorMs).toFixed(2)}×` : '',
      outMB > 0 ? (b.wallMs / outMB).toFixed(1) : '',
      `${Math.round(b.maxRssMiB)}`,
      b.rssCompileMiB ? `${Math.round(b.rssCompileMiB)}` : '',
      ...phases.map((p) => (b.phases[p] === undefined ? '' : fmtMs(b.phases[p]))),
      fmtMs(b.floorParseMs),
      fmtMs(b.floorSerialiseMs),
      fmtMs(b.floorWriteMs),
      ...(withAst ? [b.yamlAstMs === undefined ? '' : fmtMs(b.yamlAstMs)] : []),
    ]);
    if (r.diagnostics.error) notes.push(`${s.services} ${s.mode}: ${r.diagnostics.error} errors, output not written: ${r.firstErrors.join('; ')}`);
    if (r.floor.bytes !== r.outputBytes && r.outputBytes) notes.push(`${s.services} ${s.mode}: floor wrote ${r.floor.bytes} bytes, compiler ${r.outputBytes}`);
    if (s.failed) notes.push(`${s.services} ${s.mode}: ${s.failed}`);
  }
  console.log(table(rows));
  console.log(
    `\nbest of ${repeat > 1 ? `${repeat} ` : ''}\`runs\` fresh processes per row (times), RSS = median peak RSS of the child (RSS compile: the peak before the write); wall = read + compile + render + write in the child,` +
      ` floor = read + js-yaml load + serialise + write of the same bytes; output under ${outRoot}. Node ${process.version}.`,
  );
  for (const n of notes) console.log(`note: ${n}`);
}

async function parent(argv: string[]): Promise<void> {
  const sizes: number[] = [];
  let modes: Mode[] = ['restrictive', 'permissive'];
  let repeat = 3;
  let json = false;
  let format: Format = 'yaml';
  let maxOutputBytes = 20e9;
  let heapMb = 8192;
  let timeoutMs = 20 * 60_000;
  let keep = false;
  let yamlAst = false;
  let noWrite = false;
  // tmpfs by default: this VM's shared disk makes write times vary tenfold from run to run.
  let outBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (/^\d+$/.test(a)) sizes.push(Number(a));
    else if (a === '--sizes') sizes.push(...argv[++i].split(',').map(Number));
    else if (a === '--modes') modes = argv[++i].split(',') as Mode[];
    else if (a === '--repeat') repeat = Math.max(1, Number(argv[++i]));
    else if (a === '--json') json = true;
    else if (a === '--format') format = argv[++i] as Format;
    else if (a === '--max-output-gb') maxOutputBytes = Number(argv[++i]) * 1e9;
    else if (a === '--heap-mb') heapMb = Number(argv[++i]);
    else if (a === '--timeout-s') timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--keep') keep = true;
    else if (a === '--yaml-ast') yamlAst = true;
    else if (a === '--out-dir') outBase = argv[++i];
    else if (a === '--no-write') noWrite = true;
    else if (a === '--table') {
      // re-print the table of saved `--json` outputs (several files: their rows together)
      const files = argv.slice(i + 1);
      const saved = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { repeat: number; outRoot?: string; results: Summary[] });
      printTable(saved.flatMap((s) => s.results), Math.min(...saved.map((s) => s.repeat)), [...new Set(saved.map((s) => s.outRoot ?? '?'))].join(', '));
      return;
    } else {
      console.error('usage: npx tsx bench/compile.ts [SIZES...] [--modes restrictive,permissive] [--repeat 3] [--format yaml|json] [--json] [--max-output-gb 20] [--heap-mb 8192] [--timeout-s 1200] [--keep] [--yaml-ast] [--out-dir DIR] [--no-write]  |  --table SAVED.json...');
      process.exit(2);
    }
  }
  if (!sizes.length) sizes.push(250, 1000, 5000);
  sizes.sort((a, b) => a - b);

  const root = mkdtempSync(join(outBase, 'smi-bench-compile-'));
  const summaries: Summary[] = [];
  try {
    for (const mode of modes) {
      const done: { services: number; bytes: number }[] = [];
      for (const services of sizes) {
        // Output grows with proxies × what each may reach: estimate from the smaller sizes
        // already run and skip a size whose output would not fit.
        if (done.length && !noWrite) {
          const last = done[done.length - 1];
          const prev = done.length > 1 ? done[done.length - 2] : undefined;
          const k = prev && prev.bytes > 0 && last.bytes > 0 ? Math.log(last.bytes / prev.bytes) / Math.log(last.services / prev.services) : mode === 'permissive' ? 2 : 1;
          const estimate = last.bytes * (services / last.services) ** Math.max(1, k);
          if (estimate > maxOutputBytes) {
            summaries.push({ services, mode, runs: [], skipped: `estimated output ${(estimate / 1e9).toFixed(1)} GB (growth exponent ${k.toFixed(2)}) > --max-output-gb ${maxOutputBytes / 1e9}` });
            if (!json) console.error(`skip ${services} ${mode}: estimated output ${(estimate / 1e9).toFixed(1)} GB`);
            continue;
          }
        }
        const input = join(root, `in-${services}-${mode}`);
        const tg = performance.now();
        writeMesh(generateMesh({ services, permissive: mode === 'permissive' }), input);
        if (!json) console.error(`${services} ${mode}: generated in ${Math.round(performance.now() - tg)} ms; ${repeat} run(s)…`);
        const runs: RunResult[] = [];
        let failed: string | undefined;
        for (let k = 0; k < repeat; k++) {
          const out = join(root, `out-${services}-${mode}`);
          rmSync(out, { recursive: true, force: true });
          try {
            const r = await runChild(['--input', input, '--out', out, '--services', String(services), '--mode', mode, '--format', format, ...(yamlAst ? ['--yaml-ast'] : []), ...(noWrite ? ['--no-write'] : [])], heapMb, timeoutMs);
            runs.push(r);
            if (!json) console.error(`  run ${k + 1}: wall ${fmtMs(r.wallMs)}, floor ${fmtMs(r.floor.totalMs)}, RSS ${Math.round(r.maxRssKiB / 1024)} MiB, ${r.proxies} proxies, ${(r.outputBytes / 1e6).toFixed(1)} MB`);
          } catch (err) {
            failed = (err as Error).message;
            if (!json) console.error(`  run ${k + 1} failed: ${failed}`);
            break;
          }
          if (!keep) rmSync(out, { recursive: true, force: true });
        }
        if (!keep) rmSync(input, { recursive: true, force: true });
        summaries.push({ services, mode, runs, failed });
        if (runs.length) done.push({ services, bytes: Math.max(runs[0].outputBytes, runs[0].floor.bytes) });
      }
    }
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
    else console.error(`kept ${root}`);
  }
  const order = (s: Summary) => sizes.indexOf(s.services) * 2 + modes.indexOf(s.mode);
  summaries.sort((a, b) => order(a) - order(b));
  if (json) {
    console.log(JSON.stringify({ node: process.version, repeat, format, outRoot: outBase, noWrite, results: summaries.map((s) => ({ ...s, best: s.runs.length ? best(s.runs) : undefined })) }, null, 2));
  } else {
    printTable(summaries, repeat, outBase);
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const get = (name: string) => argv[argv.indexOf(name) + 1];
    const r = await child({
      input: get('--input'),
      out: get('--out'),
      services: Number(get('--services')),
      mode: get('--mode') as Mode,
      format: get('--format') as Format,
      yamlAst: argv.includes('--yaml-ast'),
      noWrite: argv.includes('--no-write'),
    });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  await parent(argv);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
