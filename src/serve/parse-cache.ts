/**
 * `serve --watch` re-parses only the files that changed.
 *
 * Parsing is per file (a document never depends on another file), so the documents and the
 * diagnostics a file gave are exactly what it gives again while its text is unchanged. A
 * recompile after a one-file edit then parses one file instead of the whole input: at 1,000
 * services that is about 5 ms instead of 200–500 ms (bench/serve-incremental.ts).
 *
 * Entries are keyed by path and checked against the file's whole text (string equality: exact,
 * and cheaper than hashing it). Only the files of the latest compile are kept, so the cache
 * never holds more than one copy of the input's documents. Cached documents are deep-frozen:
 * the stages after the parser read them and must never edit them, since the next compile gets
 * the same objects; a stage that tried would fail loudly (SMI9002) rather than corrupt it.
 *
 * Positions are remembered too: a diagnostic's file:line:column is found by re-parsing its
 * document with `yaml` (origin.ts keeps no AST), and the same warnings come back on every
 * recompile (195 of them in the 1,000-service benchmark mesh, ~70 ms a compile).
 */
import type { Diagnostic, Reporter, SourcePosition } from '../diagnostics/diagnostic.ts';
import type { FieldPath, Origin } from '../ir/types.ts';
import { parseSources, type ManifestDocument } from '../parser/parse.ts';
import type { SourceFile } from '../parser/source.ts';

interface Entry {
  readonly text: string;
  readonly documents: readonly ManifestDocument[];
  readonly diagnostics: readonly Diagnostic[];
}

export class ParseCache {
  private entries = new Map<string, Entry>();
  /** Files parsed (misses) and reused (hits) since the cache was made. */
  parsed = 0;
  reused = 0;

  /** A drop-in for `parseSources` (the compiler's `SourceParser`). */
  readonly parse = (files: SourceFile[], reporter: Reporter): ManifestDocument[] => {
    const next = new Map<string, Entry>();
    const out: ManifestDocument[] = [];
    for (const file of files) {
      let entry = this.entries.get(file.path) ?? next.get(file.path);
      if (entry && entry.text === file.text) {
        this.reused += 1;
      } else {
        const diagnostics: Diagnostic[] = [];
        const documents = parseSources([file], { report: (d) => diagnostics.push(d) }).map((d) => {
          deepFreeze(d.value);
          return { ...d, origin: rememberPositions(d.origin) };
        });
        entry = { text: file.text, documents, diagnostics };
        this.parsed += 1;
      }
      next.set(file.path, entry);
      for (const d of entry.diagnostics) reporter.report(d);
      for (const d of entry.documents) out.push(d);
    }
    this.entries = next;
    return out;
  };

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries = new Map();
  }
}

/** The same origin, asking the underlying one once per path. */
function rememberPositions(origin: Origin): Origin {
  const values = new Map<string, SourcePosition>();
  const keys = new Map<string, SourcePosition>();
  const once = (memo: Map<string, SourcePosition>, path: FieldPath, find: () => SourcePosition): SourcePosition => {
    const k = JSON.stringify(path);
    let p = memo.get(k);
    if (!p) memo.set(k, (p = find()));
    return p;
  };
  return {
    file: origin.file,
    get position() {
      return origin.position;
    },
    locate: (path) => once(values, path, () => origin.locate(path)),
    locateKey: (path) => once(keys, path, () => origin.locateKey(path)),
  };
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
