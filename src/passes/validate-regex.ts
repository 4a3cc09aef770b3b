/**
 * Regexes in HTTPRouteGroups (`pathRegex`, header values) are evaluated by Envoy with Google
 * RE2. RE2 rejects JavaScript/PCRE constructs (lookaround, backreferences) that people copy
 * from other tools, and a single bad regex makes Envoy reject the whole route configuration.
 * So each one is compiled here with re2js (a port of RE2's parser) and a failure is SMI3009,
 * pointing at the offending character inside the YAML scalar, not just at its line.
 */
import { readFileSync } from 'node:fs';
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { diagnostic, type Reporter, type SourcePosition } from '../diagnostics/diagnostic.ts';
import type { FieldPath, HttpRouteGroup, Mesh } from '../ir/types.ts';
import { refOf } from './context.ts';

export type Re2Result = { ok: true } | { ok: false; offset: number; detail: string };

// ── Tokens ──────────────────────────────────────────────────────────────────
// A light tokenizer of RE2 syntax: enough to find JavaScript-only constructs exactly, to
// match parentheses, and to cut a pattern only between whole tokens (see errorOffset).

interface Token {
  start: number;
  end: number;
}

/** End of the escape that starts with the backslash at `i`. */
function escapeEnd(p: string, i: number): number {
  const c = p[i + 1];
  if (c === undefined) return i + 1;
  if (c === 'Q') {
    // \Q…\E quotes literally; an unterminated \Q runs to the end.
    const e = p.indexOf('\\E', i + 2);
    return e < 0 ? p.length : e + 2;
  }
  if ((c === 'x' || c === 'p' || c === 'P') && p[i + 2] === '{') {
    const e = p.indexOf('}', i + 3);
    return e < 0 ? p.length : e + 1;
  }
  if (c === 'x') return Math.min(p.length, i + 4);
  if (c === 'p' || c === 'P') return Math.min(p.length, i + 3);
  if (c >= '0' && c <= '7') {
    // Octal: up to three digits in all.
    let j = i + 2;
    while (j < i + 4 && p[j] !== undefined && p[j]! >= '0' && p[j]! <= '7') j++;
    return j;
  }
  return i + 1 + String.fromCodePoint(p.codePointAt(i + 1)!).length;
}

/** End of the character class that starts with the `[` at `i`. */
function classEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++; // a leading ] is a literal
  while (j < p.length && p[j] !== ']') {
    if (p[j] === '\\') j = escapeEnd(p, j);
    else if (p.startsWith('[:', j)) {
      const e = p.indexOf(':]', j + 2);
      j = e < 0 ? j + 1 : e + 2;
    } else j++;
  }
  return Math.min(p.length, j + 1);
}

/** End of the group opener (`(`, `(?:`, `(?i)`, `(?P<n>`, `(?=`…) that starts at `i`. */
function groupEnd(p: string, i: number): number {
  if (p[i + 1] !== '?') return i + 1;
  for (const opener of ['(?<=', '(?<!', '(?=', '(?!', '(?>']) if (p.startsWith(opener, i)) return i + opener.length;
  if (p.startsWith('(?P<', i) || p.startsWith('(?<', i)) {
    const e = p.indexOf('>', i);
    return e < 0 ? p.length : e + 1;
  }
  const m = /^\(\?[a-zA-Z-]*[:)]?/.exec(p.slice(i));
  return i + m![0].length;
}

export function tokenize(p: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < p.length) {
    let end: number;
    const c = p[i];
    if (c === '\\') end = escapeEnd(p, i);
    else if (c === '[') end = classEnd(p, i);
    else if (c === '(') end = groupEnd(p, i);
    else if (c === '{') end = i + (/^\{\d+(,\d*)?\}/.exec(p.slice(i))?.[0].length ?? 1);
    else end = i + String.fromCodePoint(p.codePointAt(i)!).length;
    tokens.push({ start: i, end });
    i = end;
  }
  return tokens;
}

// ── JavaScript-only constructs ──────────────────────────────────────────────

/** Why a token is JavaScript (or PCRE) syntax that RE2 rejects, or undefined. */
function jsOnly(p: string, t: Token): string | undefined {
  const s = p.slice(t.start, t.end);
  if (s === '(?=') return 'lookahead (?= is JavaScript/PCRE syntax; RE2 has no lookaround';
  if (s === '(?!') return 'negative lookahead (?! is JavaScript/PCRE syntax; RE2 has no lookaround';
  if (s === '(?<=') return 'lookbehind (?<= is JavaScript/PCRE syntax; RE2 has no lookaround';
  if (s === '(?<!') return 'negative lookbehind (?<! is JavaScript/PCRE syntax; RE2 has no lookaround';
  if (s === '(?>') return 'atomic group (?> is PCRE syntax; RE2 does not support it';
  // RE2 reads \1 followed by an octal digit as an octal escape; alone it is a backreference.
  if (/^\\[1-9]$/.test(s)) return `${s} is a backreference; RE2 has no backreferences`;
  if (s === '\\k' && p[t.end] === '<') return '\\k<name> is a named backreference; RE2 has no backreferences';
  if (s === '\\u') return '\\u escapes are JavaScript syntax; RE2 writes a code point as \\x{HHHH}';
  if (s === '\\c') return '\\cX control escapes are JavaScript syntax; RE2 writes \\x{HH}';
  return undefined;
}

// ── Error offsets ───────────────────────────────────────────────────────────

/** RE2's verdict per pattern text: meshes repeat patterns, and `serve` recompiles them all on every edit. Bounded. */
const verdicts = new Map<string, RE2JSSyntaxException | undefined>();
const MAX_VERDICTS = 50_000;

function compileError(p: string): RE2JSSyntaxException | undefined {
  if (verdicts.has(p)) return verdicts.get(p);
  let verdict: RE2JSSyntaxException | undefined;
  try {
    RE2JS.compile(p);
  } catch (e) {
    if (!(e instanceof RE2JSSyntaxException)) throw e;
    verdict = e;
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
  verdicts.set(p, verdict);
  return verdict;
}

/** The innermost `(` left open, or the first `)` that closes nothing. */
function unbalancedParen(p: string, tokens: readonly Token[], want: '(' | ')'): number | undefined {
  const open: number[] = [];
  for (const t of tokens) {
    if (p[t.start] === '(') open.push(t.start);
    else if (p[t.start] === ')' && open.pop() === undefined && want === ')') return t.start;
  }
  return want === '(' ? open.at(-1) : undefined;
}

/**
 * Where RE2's error is. re2js reports the offending text but not its offset, and that text
 * can occur more than once (`\8x\8`). RE2 parses left to right, so the error lies in the
 * shortest prefix, cut between whole tokens, that fails with the same error and text; the
 * offending text is the last occurrence within that prefix. Cutting between tokens matters:
 * a prefix `\1` fails where the whole `\12` (an octal escape) is fine.
 */
function errorOffset(p: string, tokens: readonly Token[], err: RE2JSSyntaxException): number {
  if (err.error.startsWith('missing closing )')) return unbalancedParen(p, tokens, '(') ?? 0;
  if (err.error.startsWith('unexpected )')) return unbalancedParen(p, tokens, ')') ?? 0;
  if (err.error.startsWith('trailing backslash')) return Math.max(0, p.length - 1);
  const text = err.input;
  if (!text) return 0;
  for (const t of tokens) {
    const e = compileError(p.slice(0, t.end));
    if (e && e.error === err.error && e.input === text) {
      const at = p.lastIndexOf(text, t.end - text.length);
      return at < 0 ? t.start : at;
    }
  }
  return Math.max(0, p.indexOf(text));
}

/**
 * Whether RE2 accepts `regex`; if not, the offset (in UTF-16 code units) of the offending
 * character and why. JavaScript-only constructs get a message that says so.
 */
/**
 * Regexes made only of literal path characters, `.`, simple bracket classes (`[^/]`, `[0-9]`
 * is not: no ranges) and one `*`, `+` or `?` after each: valid RE2 by construction, so RE2 need
 * not compile them. Most route regexes are like this (`/api/v1/orders/[^/]+`, `/admin/.*`),
 * and a mesh has one per route group: at 1,000 services this skips ~2,000 compiles (≈ 35 ms).
 */
const PLAINLY_VALID = /^(?:(?:[A-Za-z0-9_/-]|\.|\[\^?[A-Za-z0-9_/]+\])[*+?]?)*$/;

export function isValidRe2(regex: string): Re2Result {
  if (PLAINLY_VALID.test(regex)) return { ok: true };
  const err = compileError(regex);
  if (!err) return { ok: true };
  const tokens = tokenize(regex);
  const offset = errorOffset(regex, tokens, err);
  // When the error is a JavaScript construct, say so: re2js's own words ("invalid escape
  // sequence: \1") do not tell a user what they wrote or what to write instead.
  const at = tokens.find((t) => t.start <= offset && offset < t.end);
  const why = at && jsOnly(regex, at);
  if (at && why) return { ok: false, offset: at.start, detail: why };
  // re2js quotes the whole regex for paren errors; the message already shows it.
  const quoted = err.input && err.input !== regex ? `: ${err.input}` : '';
  return { ok: false, offset, detail: `${err.error}${quoted}` };
}

// ── Source columns ──────────────────────────────────────────────────────────

/** Length, in decoded UTF-16 units, and source length of one YAML double-quoted escape. */
function doubleQuotedEscape(src: string, i: number): { decoded: number; source: number } {
  const c = src[i + 1];
  const hex = { x: 2, u: 4, U: 8 }[c as 'x' | 'u' | 'U'];
  if (hex) {
    const cp = parseInt(src.slice(i + 2, i + 2 + hex), 16);
    return { decoded: cp > 0xffff ? 2 : 1, source: 2 + hex };
  }
  return { decoded: 1, source: 2 };
}

/**
 * Maps `offset` in a scalar's value to the 0-based offset in `line` where that character
 * is written, given that the scalar starts at `start`. Plain scalars are written as they
 * read; quoted ones shift by the quote and by escapes (`\\` in "…", `''` in '…'). Returns
 * undefined when the line does not hold exactly `value` (block scalars, multi-line flow
 * scalars), so that the caller keeps the scalar's own position rather than guess.
 */
export function sourceOffsetInLine(line: string, start: number, value: string, offset: number): number | undefined {
  const quote = line[start];
  if (quote !== '"' && quote !== "'") return line.startsWith(value, start) ? start + offset : undefined;
  let decoded = '';
  let found: number | undefined;
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    let step = 1;
    let piece = c;
    if (c === quote) {
      if (quote === "'" && line[i + 1] === "'") step = 2; // '' is one quote
      else break;
    } else if (quote === '"' && c === '\\') {
      const esc = doubleQuotedEscape(line, i);
      step = esc.source;
      // Positions need only how many characters an escape stands for, so take them from
      // the value rather than decode every YAML escape; the text around is still compared.
      piece = value.slice(decoded.length, decoded.length + esc.decoded);
    }
    if (found === undefined && decoded.length + piece.length > offset) found = i;
    decoded += piece;
    i += step;
  }
  if (line[i] !== quote || decoded !== value) return undefined;
  return found ?? i;
}

export type SourceText = (file: string) => string | undefined;

/** Reads files from disk once each; `<stdin>` and unreadable files give undefined. */
export function diskSourceText(): SourceText {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      let text: string | undefined;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        text = undefined;
      }
      cache.set(file, text);
    }
    return cache.get(file);
  };
}

/** A file's lines, split once per file however many diagnostics it has. */
function linesOf(sourceText: SourceText): (file: string) => readonly string[] | undefined {
  const cache = new Map<string, readonly string[] | undefined>();
  return (file) => {
    if (!cache.has(file)) cache.set(file, sourceText(file)?.split('\n'));
    return cache.get(file);
  };
}

/** The position of character `offset` of the scalar at `path`; the scalar's start if unsure. */
function positionInScalar(
  group: HttpRouteGroup,
  path: FieldPath,
  value: string,
  offset: number,
  lines: (file: string) => readonly string[] | undefined,
): SourcePosition {
  const at = group.origin.locate(path);
  const line = lines(at.file)?.[at.line - 1];
  const col = line === undefined ? undefined : sourceOffsetInLine(line, at.column - 1, value, offset);
  return col === undefined ? at : { ...at, column: col + 1 };
}

// ── The pass ────────────────────────────────────────────────────────────────

/**
 * Reports SMI3009 for every `pathRegex` and header value regex that RE2 rejects.
 * `sourceText` gives a file's text, to place the column on the bad character; by default
 * files are re-read from disk. Pass the texts already in memory when there are any (stdin
 * cannot be re-read).
 */
export function validateRegexes(mesh: Mesh, reporter: Reporter, sourceText: SourceText = diskSourceText()): void {
  // Meshes repeat the same few regexes across hundreds of groups; compile each once.
  const results = new Map<string, Re2Result>();
  const lines = linesOf(sourceText);
  for (const group of mesh.httpRouteGroups) {
    const check = (regex: string, path: FieldPath): void => {
      let r = results.get(regex);
      if (!r) results.set(regex, (r = isValidRe2(regex)));
      if (r.ok) return;
      const at = positionInScalar(group, path, regex, r.offset, lines);
      reporter.report(diagnostic('invalid-regex', { regex: `"${regex}"`, detail: r.detail }, at, refOf(group)));
    };
    for (const match of group.matches) {
      if (match.pathRegex !== undefined) check(match.pathRegex, [...match.path, 'pathRegex']);
      // HeaderMatch.path names the header's value node.
      for (const header of match.headers) check(header.value, header.path);
    }
  }
}
