/**
 * The compiler as a function: sources in, proxy configs and diagnostics out. The CLI and the
 * xDS server are thin shells around it. It never throws for bad input; an exception escaping
 * a stage is a compiler bug and is reported as SMI9002 with the stage it came from.
 */
import { compareDiagnostics, diagnostic, DiagnosticBag, type Diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import { checkProtos, emitProxy } from '../emit/index.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { buildMesh } from '../ir/build/index.ts';
import type { Mesh } from '../ir/types.ts';
import { parseSources, type ManifestDocument } from '../parser/parse.ts';
import { readInputs } from '../parser/read-inputs.ts';
import type { SourceFile } from '../parser/source.ts';
import { passContext } from '../passes/context.ts';
import { runPasses, type PlannedMesh } from '../passes/index.ts';
import type { CompileOptions } from './options.ts';

export type Phase = 'read' | 'parse' | 'build' | 'passes' | 'emit' | 'protoCheck';

export interface CompileResult {
  readonly proxies: readonly ProxyConfig[];
  /** Sorted by file, line, column. */
  readonly diagnostics: readonly Diagnostic[];
  /** True when no diagnostic is an error: only then may output be written or served. */
  readonly ok: boolean;
  /** The normalised and analysed mesh (undefined when a stage failed internally). */
  readonly mesh?: PlannedMesh | Mesh;
  /** Milliseconds per phase. */
  readonly timings: Partial<Record<Phase, number>>;
}

export interface CompileRunOptions extends CompileOptions {
  /** Stop after the passes (lint needs diagnostics, not Envoy resources). */
  readonly analyseOnly?: boolean;
}

/**
 * The parse stage, replaceable: `serve --watch` passes a per-file cache of it (src/serve/parse-cache.ts)
 * so that a recompile re-parses only the files that changed. It must behave as `parseSources`.
 */
export type SourceParser = (files: SourceFile[], reporter: Reporter) => ManifestDocument[];

class InternalError extends Error {}

function timed<T>(timings: Partial<Record<Phase, number>>, phase: Phase, bag: DiagnosticBag, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } catch (err) {
    const detail = `${phase} failed: ${err instanceof Error ? err.message : String(err)}`;
    bag.report(diagnostic('internal-error', { detail }));
    if (process.env.SMI_COMPILE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    throw new InternalError(detail);
  } finally {
    timings[phase] = (timings[phase] ?? 0) + (performance.now() - t0);
  }
}

function finish(bag: DiagnosticBag, proxies: readonly ProxyConfig[], timings: CompileResult['timings'], mesh?: PlannedMesh | Mesh): CompileResult {
  const diagnostics = [...bag.items].sort(compareDiagnostics);
  return { proxies, diagnostics, ok: !diagnostics.some((d) => d.level === 'error'), mesh, timings };
}

function compileWith(
  bag: DiagnosticBag,
  timings: CompileResult['timings'],
  inputs: readonly SourceFile[],
  options: CompileRunOptions,
  parse: SourceParser = parseSources,
): CompileResult {
  let mesh: PlannedMesh | Mesh | undefined;
  try {
    const docs = timed(timings, 'parse', bag, () => parse([...inputs], bag));
    const built = timed(timings, 'build', bag, () => buildMesh(docs, bag, { trustDomain: options.trustDomain }));
    mesh = built;
    const texts = new Map(inputs.map((f) => [f.path, f.text]));
    const ctx = passContext(bag, options, (file) => texts.get(file));
    const planned = timed(timings, 'passes', bag, () => runPasses(built, ctx));
    mesh = planned;
    if (options.analyseOnly) return finish(bag, [], timings, mesh);
    const proxies = timed(timings, 'emit', bag, () => planned.proxies.map((plan) => emitProxy(plan, options)));
    if (options.protoCheck !== false) {
      timed(timings, 'protoCheck', bag, () => {
        for (const proxy of proxies) checkProtos(proxy, bag);
      });
    }
    return finish(bag, proxies, timings, mesh);
  } catch (err) {
    if (err instanceof InternalError) return finish(bag, [], timings, mesh);
    throw err;
  }
}

export function compile(inputs: readonly SourceFile[], options: CompileRunOptions = {}): CompileResult {
  return compileWith(new DiagnosticBag(), {}, inputs, options);
}

/** Reads files, directories and `-` (stdin), then compiles. */
export function compilePaths(
  paths: readonly string[],
  options: CompileRunOptions = {},
  stdin?: (maxBytes: number) => string | Buffer,
  parse?: SourceParser,
): CompileResult {
  const bag = new DiagnosticBag();
  const timings: CompileResult['timings'] = {};
  let inputs: SourceFile[];
  try {
    inputs = timed(timings, 'read', bag, () => readInputs([...paths], bag, { stdin, maxFileSize: options.maxFileSize }));
  } catch (err) {
    if (err instanceof InternalError) return finish(bag, [], timings);
    throw err;
  }
  return compileWith(bag, timings, inputs, options, parse);
}
