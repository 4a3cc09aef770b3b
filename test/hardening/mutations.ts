/**
 * fast-check arbitraries that damage valid manifests the way real files get damaged: lines
 * deleted, duplicated, swapped or re-indented, files truncated mid-line, values of the wrong
 * type, random scalars and YAML fragments dropped in, random bytes spliced into the file; and
 * long invalid regexes, the input that made regex validation quadratic.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { nameProblem, serviceReferenceProblem } from '../../src/ir/kubernetes-names.ts';
import { RE2JS } from 're2js';
import type { SourceFile } from '../../src/parser/source.ts';

const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;

/** Every fixture scenario: its files, with paths relative to fixtures/. */
export function scenarios(): SourceFile[][] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) =>
      readdirSync(join(FIXTURES, e.name))
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => ({ path: `${e.name}/${f}`, text: readFileSync(join(FIXTURES, e.name, f), 'utf8') })),
    )
    .filter((files) => files.length > 0);
}

/** Values that are valid YAML but rarely the type a field wants. */
const WRONG_VALUES = ['0', '-1', '65536', '1e309', '0x1F', '.inf', '.nan', 'true', 'null', '~', '[]', '{}', '[1, 2]', '{a: 1}', '""', '"x"', "'*'", '-', '2001-12-14', '0b101'];

/** Fragments that change what the YAML around them means. */
const FRAGMENTS = ['---', '...', '- a', '  x: *a', 'x: &a [*a]', '<<: {z: 1}', '!!binary aGk=', '? k', '[', '{', '"', "'", '|', '>-', '%YAML 1.1', '#', ':', '- - - a', '\t- tab', 'key: value: x', 'items:', 'kind: List', 'apiVersion: v1', 'metadata:', '  name: dup', '  name: dup'];

type Mutation = (lines: string[]) => string[];

const at = (lines: string[], i: number): number => (lines.length === 0 ? 0 : i % lines.length);

const lineMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((i): Mutation => (l) => l.filter((_, k) => k !== at(l, i))),
  fc.nat().map((i): Mutation => (l) => [...l.slice(0, at(l, i) + 1), ...l.slice(at(l, i))]),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]): Mutation => (l) => {
    const out = [...l];
    [out[at(l, i)], out[at(l, j)]] = [out[at(l, j)], out[at(l, i)]];
    return out;
  }),
  fc.tuple(fc.nat(), fc.integer({ min: -4, max: 4 })).map(([i, d]): Mutation => (l) =>
    l.map((line, k) => (k !== at(l, i) ? line : d >= 0 ? ' '.repeat(d) + line : line.replace(new RegExp(`^ {0,${-d}}`), ''))),
  ),
  // A value of the wrong type (or a random scalar) where a value was.
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...WRONG_VALUES), fc.string({ maxLength: 12 }))).map(([i, v]): Mutation => (l) =>
    l.map((line, k) => (k === at(l, i) ? line.replace(/:\s.*$/, `: ${v}`) : line)),
  ),
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 20 }))).map(([i, f]): Mutation => (l) => [
    ...l.slice(0, at(l, i)),
    f,
    ...l.slice(at(l, i)),
  ]),
);

/** One file of the scenario damaged by 1 to 4 line mutations, or truncated mid-file. */
export function mutatedScenario(files: SourceFile[]): fc.Arbitrary<{ files: SourceFile[]; changed: string }> {
  return fc.tuple(fc.nat({ max: files.length - 1 }), fc.oneof(fc.array(lineMutation, { minLength: 1, maxLength: 4 }), fc.double({ min: 0.02, max: 0.98, noNaN: true }))).map(([which, how]) => {
    const target = files[which];
    const text = typeof how === 'number' ? target.text.slice(0, Math.floor(target.text.length * how)) : how.reduce((l, m) => m(l), target.text.split('\n')).join('\n');
    return { files: files.map((f, k) => (k === which ? { path: f.path, text } : f)), changed: target.path };
  });
}

/** A file's bytes with random bytes spliced in, or some of its bytes overwritten. */
export function mutatedBytes(text: string): fc.Arbitrary<Buffer> {
  const bytes = Buffer.from(text);
  return fc.tuple(fc.nat({ max: bytes.length }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.boolean()).map(([pos, junk, overwrite]) =>
    Buffer.concat([bytes.subarray(0, pos), Buffer.from(junk), bytes.subarray(overwrite ? Math.min(bytes.length, pos + junk.length) : pos)]),
  );
}

// ── Hostile names and numbers (issue 15) ────────────────────────────────────

/** Characters hostile names are made of: the valid ones, path syntax, case, unicode, blanks. */
const NAME_CHARS = ['a', 'b', 'z', '0', '9', '-', '.', '/', '\\', '_', '%', '~', ':', ' ', 'A', 'Z', 'é', 'ü', 'я', 'ǅ', '\u0430'];

/** A name no Kubernetes name format accepts: hostile wherever it goes. */
export function invalidEverywhere(n: string): boolean {
  return nameProblem(n, 'label') !== undefined && nameProblem(n, 'service') !== undefined && nameProblem(n, 'subdomain') !== undefined && serviceReferenceProblem(n) !== undefined;
}

/**
 * Names Kubernetes refuses: path segments that climb out of a directory, names over 253 (or,
 * for namespaces, 63) characters, uppercase, unicode, empty, and random strings over NAME_CHARS;
 * `isInvalid` keeps those refused where they go.
 */
export function hostileNames(isInvalid: (name: string) => boolean): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('../../../../elsewhere/victim', '..', '.', '../x', 'a/b', '/etc', 'a..b', 'App', 'café', 'ns\u0000x', '-a', 'a-', '', ' '),
    fc.integer({ min: 64, max: 2000 }).map((n) => 'a'.repeat(n)),
    fc.tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom('..', 'x')).map(([n, last]) => `${'../'.repeat(n)}${last}`),
    fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 24 }),
  ).filter(isInvalid);
}

/** Numbers Envoy cannot take, as YAML scalars: ports outside 1-65535, weights outside uint32 or not whole. */
const BAD_PORTS = ['0', '-1', '65536', '70000', '99999999999999999999', '1.5'];
const BAD_WEIGHTS = ['-1', '4294967296', '99999999999999999999', '1.5'];

/** A line of a fixture where a hostile value may go, and the values that go there. */
interface Site {
  readonly file: number;
  readonly line: number;
  readonly values: 'namespace' | 'name' | 'service-account' | 'port' | 'weight';
}

/** The lines of `files` that hold a name or a number the compiler must check. */
function sites(files: readonly SourceFile[]): Site[] {
  const out: Site[] = [];
  files.forEach((f, file) => {
    const lines = f.text.split('\n');
    lines.forEach((text, line) => {
      let values: Site['values'] | undefined;
      // Namespaces of objects and of TrafficTarget identities (indented at most 4); not an Endpoints
      // address's targetRef, which nothing reads.
      if (/^ {0,4}(- )?namespace:\s*\S/.test(text)) values = 'namespace';
      else if (/^\s*(- )?service:\s*\S/.test(text)) values = 'name';
      else if (/^ {2}name:\s*\S/.test(text) && lines[line - 1] === 'metadata:') values = 'name';
      else if (/^\s*serviceAccountName:\s*\S/.test(text)) values = 'service-account';
      else if (/^\s*(- )?(targetPort|containerPort):\s*\d/.test(text) || /^ {2}(- | {2})port:\s*\d/.test(text)) values = 'port';
      else if (/^\s*(- )?weight:\s*\d/.test(text)) values = 'weight';
      if (values) out.push({ file, line, values });
    });
  });
  return out;
}

export interface HostileCase {
  readonly files: SourceFile[];
  /** Where each hostile value went: `path:line` (1-based). */
  readonly changed: readonly string[];
}

/**
 * The scenario with 1 to `max` of its names or numbers replaced by hostile ones (`numbers: false`
 * for names only). Every value is put in as a JSON string or a number, so the YAML stays valid
 * and only the value is wrong.
 */
export function hostileScenario(files: SourceFile[], opts: { numbers: boolean; max: number }): fc.Arbitrary<HostileCase> {
  const candidates = sites(files).filter((s) => opts.numbers || (s.values !== 'port' && s.values !== 'weight'));
  const names = hostileNames(invalidEverywhere);
  // Namespaces are labels: 64 to 253 characters, or a dot, are refused there too.
  const namespaces = hostileNames((n) => nameProblem(n, 'label') !== undefined);
  const valueFor = (s: Site): fc.Arbitrary<string> => {
    if (s.values === 'port') return fc.constantFrom(...BAD_PORTS);
    if (s.values === 'weight') return fc.constantFrom(...BAD_WEIGHTS);
    if (s.values === 'namespace') return namespaces.map((n) => JSON.stringify(n));
    // `serviceAccountName: ""` means the default account in Kubernetes, so it is not hostile there.
    return (s.values === 'service-account' ? names.filter((n) => n !== '') : names).map((n) => JSON.stringify(n));
  };
  return fc
    .uniqueArray(fc.nat({ max: candidates.length - 1 }), { minLength: 1, maxLength: opts.max })
    .chain((picked) => fc.tuple(...picked.map((i) => valueFor(candidates[i]).map((v) => ({ site: candidates[i], v })))))
    .map((changes) => {
      const texts = files.map((f) => f.text.split('\n'));
      for (const { site, v } of changes) texts[site.file][site.line] = texts[site.file][site.line].replace(/:\s.*$/, `: ${v}`);
      return {
        files: files.map((f, i) => ({ path: f.path, text: texts[i].join('\n') })),
        changed: changes.map(({ site }) => `${files[site.file].path}:${site.line + 1}`),
      };
    });
}

/** Valid RE2 pieces, and pieces RE2 rejects (JavaScript syntax, bad escapes, ranges, repeats, names). */
const REGEX_PIECES = ['a', '/', '-', '.', '\\d', '[^/]', '[a-z]', '(?:', '(', ')', '*', '+', '?', '{2}', '{1,3}', '|', '\\x{41}', '(?i)', '\\12', 'é', '\\Q*\\E'];
const BAD_REGEX_PIECES = ['(?=', '(?!x)', '\\8', '**', '[z-a]', '(?P<>', '\\u00e9', 'x{2000}', '\\pX', '[[:foo:]]', '(?P<n>a)(?P<n>b)', '\\1', '(', ')', '['];

/** Regexes of up to `maxPieces` valid pieces with one to three bad ones spliced in, that RE2 rejects. */
export function invalidRegex(maxPieces: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(fc.constantFrom(...REGEX_PIECES), { maxLength: maxPieces }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...BAD_REGEX_PIECES)), { minLength: 1, maxLength: 3 }))
    .map(([pieces, bad]) => {
      const out = [...pieces];
      for (const [i, b] of bad) out.splice(i % (out.length + 1), 0, b);
      return out.join('');
    })
    .filter((r) => {
      try {
        RE2JS.compile(r);
        return false;
      } catch {
        return true;
      }
    });
}
