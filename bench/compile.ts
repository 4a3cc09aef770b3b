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
 *   npx tsx bench/compile.ts --cli [SIZES...] [--modes ...] [--repeat 3] [--commands ...] [--root DIR] [--json]  |  --cli --table SAVED.json...
 *       # the CLI as users run it (node bin/smi-compile.js, npx smi-compile), compile -o and lint,
 *       # against the strict floor (bench/compile-floor.mjs) in the same run: see cliParent below
 *
 * SIZES default to 250 1000 5000. For each size and mode the parent generates the mesh
 * (bench/generate-mesh.ts) into a temp directory, then starts `--repeat` children. Each child:
 *   1. reads the input files (fs), compiles them (the compiler's own per-phase timings) and
 *      writes the output tree the way `smi-compile -o` does: streamed, each proxy emitted,
 *      proto-checked, serialised and written into the staging directory before the next, the
 *      staging directory renamed into place at the end; records peak RSS right then, and
 *      deletes the tree (tmpfs is RAM: the floor writes the same bytes again);
 *   2. measures the FLOOR on the same input and output: the same files read again, parsed
 *      with the library the parser uses for clean documents (js-yaml `loadAll`, core schema),
 *      and the same resource objects (from a second, untimed compile, one proxy at a time)
 *      serialised by the compiler's own `serialise` (the writer's library and options) and
 *      written with plain fs writes, same layout.
 *      `--yaml-ast` also times `yaml`'s parseAllDocuments (AST + positions) as a reference.
 * The floor runs after the compile in the same process, so its libraries are warm: a
 * conservative (low) floor. Times are the best of the repeats; RSS is the median.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import jsyaml from 'js-yaml';
import { LineCounter, parseAllDocuments } from 'yaml';
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
  /** read + compile (parse … passes, then emit and proto check per proxy) + render + write, in the child, streamed one proxy at a time as `smi-compile -o` does. */
  readonly wallMs: number;
  /** read (ours), the compiler's own phases, render and write (ours). */
  readonly phases: Readonly<Record<string, number>>;
  /** KiB, from process.resourceUsage().maxRSS right after the write. */
  readonly maxRssKiB: number;
  /** KiB, peak RSS after the passes, before the first proxy is emitted: the mesh and the plans. */
  readonly rssPlannedKiB: number;
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
  /** The floor again in a fresh process of its own (cold, like the compile): see floorChild. */
  coldFloor?: FloorResult;
}

/** The floor measured by `floorChild`, in a process that ran nothing else first. */
export interface FloorResult {
  readonly readMs: number;
  readonly parseMs: number;
  readonly serialiseMs: number;
  readonly writeMs: number;
  readonly totalMs: number;
  readonly bytes: number;
}

/** Output beyond this is not dumped for the cold floor (the JSON of every object would not fit comfortably). */
const COLD_FLOOR_MAX_OUTPUT_BYTES = 1e9;

// ── the compiler, loaded lazily so this file type-checks and runs its floor-only parts even
//    while the compiler's modules are moving ──────────────────────────────────────────────

interface Diag {
  readonly code: string;
  readonly level: string;
  readonly message: string;
  readonly source?: { file: string; line: number; column: number };
}
/** src/compiler/compile.ts CompileSession: emit and proto check pulled one proxy at a time. */
interface Session {
  ok(): boolean;
  proxies(order?: 'plan' | 'path'): Iterable<Proxy>;
  result(): { diagnostics: readonly Diag[]; timings?: Record<string, number> };
}
/** src/compiler/output-tree.ts StagedTree: the staging directory `smi-compile -o` writes into. */
interface Staged {
  write(file: string, content: string): void;
  commit(): { files: number; bytes: number };
  abort(): void;
}
interface CompilerApi {
  /** The whole compile, every proxy held (bench/proxy-size.ts). */
  compile(inputs: { path: string; text: string }[], options: Record<string, unknown>): {
    proxies: readonly Proxy[];
    diagnostics: readonly Diag[];
    timings?: Record<string, number>;
  };
  startCompile(inputs: { path: string; text: string }[], options: Record<string, unknown>): Session;
  renderProxy(proxy: Proxy, format: Format): [string, string][];
  stagedTree(outDir: string): Staged;
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

export async function loadCompiler(): Promise<CompilerApi> {
  const c = await tryImport('compiler/compile.ts');
  const t = await tryImport('compiler/output-tree.ts');
  if (!c?.compile || !c?.startCompile) throw new Error('src/compiler/compile.ts has no compile() and startCompile() (the streaming compile)');
  if (!t?.renderProxy || !t?.StagedTree || !t?.serialise) throw new Error('src/compiler/output-tree.ts has no renderProxy/StagedTree/serialise');
  return { compile: c.compile, startCompile: c.startCompile, renderProxy: t.renderProxy, stagedTree: (dir) => new t.StagedTree(dir), serialise: t.serialise };
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

function countResources(p: Proxy): number {
  return XDS_KINDS.reduce((m, k) => m + (p.resources[k]?.length ?? 0), 0);
}

async function child(args: { input: string; out: string; services: number; mode: Mode; format: Format; yamlAst: boolean; noWrite: boolean }): Promise<RunResult> {
  const tLoad = performance.now();
  const api = await loadCompiler();
  const loadMs = performance.now() - tLoad;

  // ── the compiler, as `smi-compile -o` runs it: read, parse, build and passes, then each proxy
  //    emitted, proto-checked, serialised (render) and written into the staging directory
  //    before the next one; the staging directory renamed into place at the end ──
  // Dirty pages of earlier runs are flushed first (untimed) so one run's writeback does not
  // land on the next one's clock.
  flush();
  const t0 = performance.now();
  const inputs = readInputs(args.input);
  const t1 = performance.now();
  const session = api.startCompile(inputs, {});
  const rssPlannedKiB = process.resourceUsage().maxRSS;
  const compiledDir = join(args.out, 'compiled');
  let renderMs = 0;
  let writeMs = 0;
  let proxies = 0;
  let resources = 0;
  let written = { files: 0, bytes: 0 };
  const staged = session.ok() && !args.noWrite ? api.stagedTree(compiledDir) : undefined;
  try {
    for (const proxy of session.proxies('path')) {
      proxies++;
      resources += countResources(proxy);
      if (!staged || !session.ok()) continue;
      const r0 = performance.now();
      const files = api.renderProxy(proxy, args.format);
      const r1 = performance.now();
      for (const [file, content] of files) staged.write(file, content);
      writeMs += performance.now() - r1;
      renderMs += r1 - r0;
    }
    if (staged && session.ok()) {
      const c0 = performance.now();
      written = staged.commit();
      writeMs += performance.now() - c0;
    }
  } finally {
    staged?.abort();
  }
  const t3 = performance.now();
  const result = session.result();
  const maxRssKiB = process.resourceUsage().maxRSS;
  const heapUsedMiB = process.memoryUsage().heapUsed / 2 ** 20;
  const hasErrors = result.diagnostics.some((d) => d.level === 'error');

  const phases: Record<string, number> = { read: t1 - t0 };
  const timings = result.timings ?? {};
  for (const [k, v] of Object.entries(timings)) if (typeof v === 'number') phases[k] = v;
  const inCompile = Object.values(timings).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  if (staged) {
    phases.render = renderMs;
    phases.write = writeMs;
  }
  const other = t3 - t1 - inCompile - renderMs - writeMs; // time no phase claimed (the loop itself)
  if (other > 1) phases.other = other;
  // The compiled tree is not needed any more: free the space (a tmpfs is RAM) before the floor
  // writes the same bytes again.
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
  void docs;
  // Serialise every file with the writer's own function, and write it plainly. The compile
  // above held one proxy at a time, so the floor's objects come from a second, untimed compile
  // of the same input (the same objects, the same bytes), one proxy at a time too: only the
  // serialise and the write of each file are timed.
  let serialiseMs = 0;
  let floorWriteMs = 0;
  let floorBytes = 0;
  if (!args.noWrite && !hasErrors) {
    flush();
    const floorDir = join(args.out, 'floor');
    for (const p of api.startCompile(inputs, { protoCheck: false }).proxies('path')) {
      const s0 = performance.now();
      const dir = `${p.namespace}/${p.workload}`;
      const texts: [string, string][] = XDS_KINDS.map((kind) => [`${dir}/${kind}.${args.format}`, api.serialise(p.resources[kind] ?? [], args.format)]);
      texts.push([`${dir}/bootstrap.${args.format}`, api.serialise(p.bootstrap, args.format)]);
      const s1 = performance.now();
      mkdirSync(join(floorDir, dir), { recursive: true });
      for (const [file, text] of texts) {
        writeFileSync(join(floorDir, file), text);
        floorBytes += Buffer.byteLength(text);
      }
      floorWriteMs += performance.now() - s1;
      serialiseMs += s1 - s0;
    }
  }
  // For the cold floor (floorChild): the same objects as JSON lines, one proxy a line, written
  // untimed, so a fresh process can serialise them without running the compiler first.
  if (!args.noWrite && !hasErrors && floorBytes <= COLD_FLOOR_MAX_OUTPUT_BYTES) {
    const lines: string[] = [];
    for (const p of api.startCompile(inputs, { protoCheck: false }).proxies('path')) {
      lines.push(JSON.stringify({ dir: `${p.namespace}/${p.workload}`, resources: p.resources, bootstrap: p.bootstrap }));
    }
    writeFileSync(join(args.out, 'objects.jsonl'), `${lines.join('\n')}\n`);
  }
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
    proxies,
    resources,
    diagnostics: { error: count('error'), warning: count('warning'), info: count('info') },
    firstErrors: result.diagnostics
      .filter((d) => d.level === 'error')
      .slice(0, 5)
      .map((d) => `${d.code} ${d.message}${d.source ? ` (${d.source.file}:${d.source.line})` : ''}`),
    outputFiles: written.files,
    outputBytes: written.bytes,
    loadMs,
    wallMs: t3 - t0,
    phases,
    maxRssKiB,
    rssPlannedKiB,
    heapUsedMiB,
    floor: {
      readMs: f1 - f0,
      parseMs: f2 - f1,
      serialiseMs,
      writeMs: floorWriteMs,
      totalMs: f2 - f0 + serialiseMs + floorWriteMs,
      bytes: floorBytes,
      yamlAstMs,
    },
  };
}

/**
 * The floor in a process of its own: the compile child runs cold (a fresh process, modules
 * loaded but nothing run), while the floor measured after it in the same process runs with
 * js-yaml and the writer's serialise already compiled by the JIT. Here both start cold too:
 * the objects are read from the compile child's JSON dump (JSON.parse, untimed), then the
 * same read + js-yaml load + serialise + write is timed.
 */
async function floorChild(args: { input: string; objects: string; out: string; format: Format }): Promise<FloorResult> {
  const t = await tryImport('compiler/output-tree.ts');
  if (!t?.serialise) throw new Error('src/compiler/output-tree.ts has no serialise');
  const serialise = t.serialise as CompilerApi['serialise'];
  const proxies = readFileSync(args.objects, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { dir: string; resources: Record<string, unknown[]>; bootstrap: unknown });
  flush();
  const f0 = performance.now();
  const inputs = readInputs(args.input);
  const f1 = performance.now();
  for (const f of inputs) jsyaml.loadAll(f.text, () => undefined, { schema: jsyaml.CORE_SCHEMA });
  const f2 = performance.now();
  let serialiseMs = 0;
  let writeMs = 0;
  let bytes = 0;
  const floorDir = join(args.out, 'cold-floor');
  for (const p of proxies) {
    const s0 = performance.now();
    const texts: [string, string][] = XDS_KINDS.map((kind) => [`${p.dir}/${kind}.${args.format}`, serialise(p.resources[kind] ?? [], args.format)]);
    texts.push([`${p.dir}/bootstrap.${args.format}`, serialise(p.bootstrap, args.format)]);
    const s1 = performance.now();
    mkdirSync(join(floorDir, p.dir), { recursive: true });
    for (const [file, text] of texts) {
      writeFileSync(join(floorDir, file), text);
      bytes += Buffer.byteLength(text);
    }
    writeMs += performance.now() - s1;
    serialiseMs += s1 - s0;
  }
  rmSync(floorDir, { recursive: true, force: true });
  return { readMs: f1 - f0, parseMs: f2 - f1, serialiseMs, writeMs, totalMs: f2 - f0 + serialiseMs + writeMs, bytes };
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
  return runProcess<RunResult>('--child', args, heapMb, timeoutMs);
}

function runProcess<T extends { processMs?: number }>(role: '--child' | '--floor-child' | '--dump-objects', args: string[], heapMb: number, timeoutMs: number): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const cp = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', fileURLToPath(import.meta.url), role, ...args], {
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
      const r = JSON.parse(line) as T;
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
    coldFloorMs: runs.every((r) => r.coldFloor) ? min(runs.map((r) => r.coldFloor!.totalMs)) : undefined,
    floorParseMs: min(runs.map((r) => r.floor.parseMs)),
    floorWriteMs: min(runs.map((r) => r.floor.writeMs)),
    floorSerialiseMs: min(runs.map((r) => r.floor.serialiseMs ?? 0)),
    yamlAstMs: runs.every((r) => r.floor.yamlAstMs !== undefined) ? min(runs.map((r) => r.floor.yamlAstMs!)) : undefined,
    loadMs: min(runs.map((r) => r.loadMs)),
    processMs: min(runs.map((r) => r.processMs ?? 0)),
    maxRssMiB: median(runs.map((r) => r.maxRssKiB / 1024)),
    rssPlannedMiB: median(runs.map((r) => (r.rssPlannedKiB ?? 0) / 1024)),
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
  const head = ['services', 'mode', 'runs', 'proxies', 'resources', 'out MB', 'wall ms', 'floor ms', 'wall/floor', 'cold floor', 'wall/cold', 'ms/out MB', 'RSS MiB', 'RSS planned', ...phases.map((p) => `${p}`), 'fl.parse', 'fl.serialise', 'fl.write'];
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
      b.coldFloorMs === undefined ? '' : fmtMs(b.coldFloorMs),
      b.coldFloorMs === undefined ? '' : `${(b.wallMs / b.coldFloorMs).toFixed(2)}×`,
      outMB > 0 ? (b.wallMs / outMB).toFixed(1) : '',
      `${Math.round(b.maxRssMiB)}`,
      b.rssPlannedMiB ? `${Math.round(b.rssPlannedMiB)}` : '',
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
    `\nbest of ${repeat > 1 ? `${repeat} ` : ''}\`runs\` fresh processes per row (times), RSS = median peak RSS of the child over the whole streamed compile and write (RSS planned: the peak after the passes, before emit); wall = read + compile + render + write in the child, one proxy at a time,` +
      ` floor = read + js-yaml load + serialise + write of the same bytes, in the same process after the compile (libraries warm); cold floor = the same in a fresh process of its own (cold, as the compile runs), up to 1 GB of output; output under ${outRoot}. Node ${process.version}.`,
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
            const objects = join(out, 'objects.jsonl');
            if (existsSync(objects)) {
              r.coldFloor = await runProcess<FloorResult & { processMs?: number }>('--floor-child', ['--input', input, '--objects', objects, '--out', out, '--format', format], heapMb, timeoutMs);
              rmSync(objects, { force: true });
            }
            runs.push(r);
            if (!json) console.error(`  run ${k + 1}: wall ${fmtMs(r.wallMs)}, floor ${fmtMs(r.floor.totalMs)} (cold ${r.coldFloor ? fmtMs(r.coldFloor.totalMs) : '-'}), RSS ${Math.round(r.maxRssKiB / 1024)} MiB, ${r.proxies} proxies, ${(r.outputBytes / 1e6).toFixed(1)} MB`);
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


// ── --cli: the CLI as users run it, against the strict floor (issue 21) ────────────────────
//
// For each size and mode: the mesh is generated, the compiler's output objects are dumped once
// (untimed, `--dump-objects`: what compile-floor.mjs serialises), then `--repeat` rounds of
// these processes, one after the other, each timed by /usr/bin/time (wall, user + system CPU of
// the process and its children, peak RSS), with the 1-minute load average read just before:
//
//   floor-compile  node bench/compile-floor.mjs IN --objects OBJ --out OUT   (minus its JSON load)
//   node-compile   node bin/smi-compile.js compile IN -o OUT                 (SMI_COMPILE_PROFILE=1)
//   npx-compile    npx smi-compile compile IN -o OUT
//   floor-lint     node bench/compile-floor.mjs IN
//   node-lint      node bin/smi-compile.js lint IN
//   npx-lint       npx smi-compile lint IN
//   tsx-compile, tsx-lint: node bin/smi-compile.js with SMI_COMPILE_BUNDLE=0 (the sources through
//                  tsx, as every run did before the bundle cache), only when named in --commands
//
// Ratios are ours / floor, both from the same round (a paired ratio: the machine's load moves
// between rounds), median over the rounds; and best / best. --root DIR runs another checkout's
// bin/ (an earlier commit, for a before/after in the same run).

const CLI_COMMANDS = ['floor-compile', 'node-compile', 'npx-compile', 'floor-lint', 'node-lint', 'npx-lint'] as const;
const OPTIONAL_COMMANDS = ['tsx-compile', 'tsx-lint'] as const;
type CliCommand = (typeof CLI_COMMANDS)[number] | (typeof OPTIONAL_COMMANDS)[number];

/** One timed process. Times in ms; for the floor, its objects' JSON load already subtracted. */
export interface CliRun {
  readonly command: CliCommand;
  readonly round: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssKiB: number;
  readonly load1: number;
  readonly exitCode: number;
  /** SMI_COMPILE_PROFILE's line (node-* and tsx-*), or compile-floor.mjs's own figures. */
  readonly phases?: Readonly<Record<string, number>>;
  /** Bytes of the tree written (compile commands). */
  readonly outputBytes?: number;
}

/** The compiler's output objects, deduplicated by identity, for compile-floor.mjs (untimed). */
async function dumpObjects(args: { input: string; objects: string }): Promise<void> {
  const api = await loadCompiler();
  const inputs = readInputs(args.input);
  const index = new Map<unknown, number>();
  const objects: unknown[] = [];
  const ref = (o: unknown): number => {
    let i = index.get(o);
    if (i === undefined) {
      i = objects.length;
      objects.push(o);
      index.set(o, i);
    }
    return i;
  };
  const proxies: { dir: string; files: [string, number | number[]][] }[] = [];
  // The files and order of renderProxy (src/compiler/output-tree.ts): bootstrap, then each xDS kind.
  for (const p of api.startCompile(inputs, { protoCheck: false }).proxies('path')) {
    const files: [string, number | number[]][] = [['bootstrap.yaml', ref(p.bootstrap)]];
    for (const kind of XDS_KINDS) files.push([`${kind}.yaml`, (p.resources[kind] ?? []).map(ref)]);
    proxies.push({ dir: `${p.namespace}/${p.workload}`, files });
  }
  writeFileSync(args.objects, JSON.stringify({ objects, proxies }));
}

function treeBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, f));
    if (st.isFile() && !f.endsWith('.sha256')) n += st.size;
  }
  return n;
}

/** Runs `argv` under /usr/bin/time; stdout and stderr kept for the caller. */
function timed(argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ wallMs: number; cpuMs: number; maxRssKiB: number; exitCode: number; stdout: string; stderr: string }> {
  const timeFile = join(tmpdir(), `smi-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolvePromise, reject) => {
    const cp = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...argv], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cp.stdout.on('data', (d) => (stdout += d));
    cp.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => cp.kill('SIGKILL'), opts.timeoutMs);
    cp.on('error', reject);
    cp.on('close', (code) => {
      clearTimeout(timer);
      try {
        const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [e, u, sy, m] = line.split(' ').map(Number);
        resolvePromise({ wallMs: e * 1000, cpuMs: (u + sy) * 1000, maxRssKiB: m, exitCode: code ?? -1, stdout, stderr });
      } catch (err) {
        reject(new Error(`no /usr/bin/time figures for ${argv.join(' ')}: ${(err as Error).message}; stderr: ${stderr.slice(-500)}`));
      } finally {
        rmSync(timeFile, { force: true });
      }
    });
  });
}

function profileOf(stderr: string): Record<string, number> | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith('smi-compile profile: '));
  return line ? (JSON.parse(line.slice('smi-compile profile: '.length)) as Record<string, number>) : undefined;
}

async function cliRound(command: CliCommand, round: number, ctx: { root: string; input: string; objects: string; out: string; timeoutMs: number }): Promise<CliRun> {
  const floorScript = join(HERE, 'compile-floor.mjs');
  const bin = join(ctx.root, 'bin', 'smi-compile.js');
  const env: NodeJS.ProcessEnv = { ...process.env, SMI_COMPILE_PROFILE: '1' };
  delete env.NODE_OPTIONS; // the floor gets none either
  let argv: string[];
  if (command === 'floor-compile') argv = [process.execPath, floorScript, ctx.input, '--objects', ctx.objects, '--out', ctx.out];
  else if (command === 'floor-lint') argv = [process.execPath, floorScript, ctx.input];
  else {
    const [how, what] = command.split('-') as ['node' | 'npx' | 'tsx', 'compile' | 'lint'];
    const args = what === 'compile' ? ['compile', ctx.input, '-o', ctx.out] : ['lint', ctx.input];
    argv = how === 'npx' ? ['npx', '--no-install', 'smi-compile', ...args] : [process.execPath, bin, ...args];
    if (how === 'tsx') env.SMI_COMPILE_BUNDLE = '0';
    if (how === 'npx') delete env.SMI_COMPILE_PROFILE; // npx's own start is what it adds: the figures are node-*'s
  }
  rmSync(ctx.out, { recursive: true, force: true });
  flush();
  const load1 = loadavg()[0];
  const t = await timed(argv, { cwd: ctx.root, env, timeoutMs: ctx.timeoutMs });
  let run: CliRun;
  if (command.startsWith('floor-')) {
    const f = JSON.parse(t.stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
    run = { command, round, wallMs: t.wallMs - f.excludedWallMs, cpuMs: t.cpuMs - f.excludedCpuMs, maxRssKiB: t.maxRssKiB, load1, exitCode: t.exitCode, phases: f, outputBytes: command === 'floor-compile' ? f.bytes : undefined };
  } else {
    run = { command, round, wallMs: t.wallMs, cpuMs: t.cpuMs, maxRssKiB: t.maxRssKiB, load1, exitCode: t.exitCode, phases: profileOf(t.stderr), outputBytes: command.endsWith('-compile') && existsSync(ctx.out) ? treeBytes(ctx.out) : undefined };
  }
  if (t.exitCode !== 0 && !(command.endsWith('-lint') && t.exitCode === 1)) throw new Error(`${command} exited ${t.exitCode}: ${t.stderr.trim().split('\n').slice(-5).join('\n')}`);
  rmSync(ctx.out, { recursive: true, force: true });
  return run;
}

interface CliSummary {
  readonly services: number;
  readonly mode: Mode;
  readonly runs: CliRun[];
  readonly failed?: string;
}

async function cliParent(argv: string[]): Promise<void> {
  const sizes: number[] = [];
  let modes: Mode[] = ['restrictive', 'permissive'];
  let repeat = 3;
  let json = false;
  let commands: CliCommand[] = [...CLI_COMMANDS];
  let root = join(HERE, '..');
  let timeoutMs = 20 * 60_000;
  let outBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (/^\d+$/.test(a)) sizes.push(Number(a));
    else if (a === '--modes') modes = argv[++i].split(',') as Mode[];
    else if (a === '--repeat') repeat = Math.max(1, Number(argv[++i]));
    else if (a === '--json') json = true;
    else if (a === '--commands') commands = argv[++i].split(',') as CliCommand[];
    else if (a === '--root') root = argv[++i];
    else if (a === '--out-dir') outBase = argv[++i];
    else if (a === '--timeout-s') timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--table') {
      // the table again from saved --json outputs (several: their rows together)
      printCliTable(argv.slice(i + 1).flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { results: CliSummary[] }).results));
      return;
    } else {
      console.error('usage: npx tsx bench/compile.ts --cli [SIZES...] [--modes restrictive,permissive] [--repeat 3] [--commands floor-compile,node-compile,...] [--root CHECKOUT] [--out-dir DIR] [--timeout-s 1200] [--json]  |  --cli --table SAVED.json...');
      process.exit(2);
    }
  }
  const known = new Set<string>([...CLI_COMMANDS, ...OPTIONAL_COMMANDS]);
  for (const c of commands) if (!known.has(c)) throw new Error(`unknown command ${c}: one of ${[...known].join(', ')}`);
  if (!sizes.length) sizes.push(1000, 5000);
  const tmp = mkdtempSync(join(outBase, 'smi-bench-cli-'));
  const summaries: CliSummary[] = [];
  try {
    // The bundle cache is built (if stale) before anything is timed: the first run after an edit pays it once.
    execFileSync(process.execPath, [join(root, 'bin', 'smi-compile.js'), '--version'], { cwd: root, stdio: 'ignore' });
    for (const mode of modes) {
      for (const services of sizes) {
        const input = join(tmp, `in-${services}-${mode}`);
        writeMesh(generateMesh({ services, permissive: mode === 'permissive' }), input);
        const objects = join(tmp, 'objects.json');
        const runs: CliRun[] = [];
        let failed: string | undefined;
        try {
          if (commands.includes('floor-compile')) await runProcess('--dump-objects', ['--input', input, '--objects', objects], 8192, timeoutMs);
          for (let round = 1; round <= repeat; round++) {
            for (const command of commands) {
              const r = await cliRound(command, round, { root, input, objects, out: join(tmp, 'out'), timeoutMs });
              runs.push(r);
              if (!json) console.error(`${services} ${mode} round ${round} ${command}: wall ${fmtMs(r.wallMs)} ms, CPU ${fmtMs(r.cpuMs)} ms, RSS ${Math.round(r.maxRssKiB / 1024)} MiB, load ${r.load1.toFixed(2)}`);
            }
          }
        } catch (err) {
          failed = (err as Error).message;
          if (!json) console.error(`${services} ${mode}: ${failed}`);
        }
        rmSync(input, { recursive: true, force: true });
        rmSync(objects, { force: true });
        summaries.push({ services, mode, runs, failed });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (json) console.log(JSON.stringify({ node: process.version, repeat, root, commands, results: summaries }, null, 2));
  else printCliTable(summaries);
}

function printCliTable(summaries: CliSummary[]): void {
  const rows: string[][] = [['services', 'mode', 'command', 'rounds', 'wall best', 'wall med', 'CPU best', 'CPU med', '÷floor wall', '÷floor CPU', 'RSS MiB', 'load', 'out MB']];
  const phaseRows: string[] = [];
  for (const s of summaries) {
    if (s.failed) phaseRows.push(`${s.services} ${s.mode}: FAILED ${s.failed}`);
    const commands = [...new Set(s.runs.map((r) => r.command))];
    for (const command of commands) {
      const mine = s.runs.filter((r) => r.command === command);
      const what = command.split('-')[1];
      const floorOf = (r: CliRun) => s.runs.find((f) => f.command === `floor-${what}` && f.round === r.round);
      const paired = (k: 'wallMs' | 'cpuMs') => {
        const ratios = mine.map((r) => [r, floorOf(r)] as const).filter(([, f]) => f).map(([r, f]) => r[k] / f![k]);
        return ratios.length && !command.startsWith('floor-') ? `${median(ratios).toFixed(2)}×` : '';
      };
      const loads = mine.map((r) => r.load1);
      const out = mine.find((r) => r.outputBytes)?.outputBytes;
      rows.push([
        String(s.services), s.mode, command, String(mine.length),
        fmtMs(min(mine.map((r) => r.wallMs))), fmtMs(median(mine.map((r) => r.wallMs))),
        fmtMs(min(mine.map((r) => r.cpuMs))), fmtMs(median(mine.map((r) => r.cpuMs))),
        paired('wallMs'), paired('cpuMs'),
        String(Math.round(median(mine.map((r) => r.maxRssKiB)) / 1024)),
        `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
        out ? (out / 1e6).toFixed(1) : '',
      ]);
      // Per phase: the median over the rounds of each figure the process reported.
      const withPhases = mine.filter((r) => r.phases);
      if (withPhases.length) {
        const keys = [...new Set(withPhases.flatMap((r) => Object.keys(r.phases!)))].filter((k) => !['documents', 'files', 'bytes', 'excludedWallMs', 'excludedCpuMs', 'maxRssKiB'].includes(k));
        phaseRows.push(`${s.services} ${s.mode} ${command}: ${keys.map((k) => `${k} ${fmtMs(median(withPhases.map((r) => r.phases![k] ?? 0)))}`).join(', ')}`);
      }
    }
  }
  console.log(table(rows));
  console.log(`\nms; ÷floor = median over rounds of ours / the floor of the same round; CPU = user + system of the process and its children (/usr/bin/time); load = 1-minute load average before each process. Node ${process.version}.`);
  console.log('\nphases (ms, median of the rounds; node-* and tsx-*: SMI_COMPILE_PROFILE, where cpu* are CPU and the rest wall; floor-*: compile-floor.mjs):');
  for (const line of phaseRows) console.log(`  ${line}`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--cli') return cliParent(argv.slice(1));
  if (argv[0] === '--dump-objects') {
    const get = (name: string) => argv[argv.indexOf(name) + 1];
    await dumpObjects({ input: get('--input'), objects: get('--objects') });
    process.stdout.write('{}\n');
    return;
  }
  if (argv[0] === '--floor-child') {
    const get = (name: string) => argv[argv.indexOf(name) + 1];
    const r = await floorChild({ input: get('--input'), objects: get('--objects'), out: get('--out'), format: get('--format') as Format });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
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
