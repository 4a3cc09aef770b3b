/**
 * fast-check arbitraries that damage valid manifests the way real files get damaged: lines
 * deleted, duplicated, swapped or re-indented, files truncated mid-line, values of the wrong
 * type, random scalars and YAML fragments dropped in, random bytes spliced into the file; and
 * long invalid regexes, the input that made regex validation quadratic.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
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
