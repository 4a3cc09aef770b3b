/**
 * Regexes in HTTPRouteGroups (`pathRegex`, header values) are evaluated by Envoy with Google
 * RE2. RE2 rejects JavaScript/PCRE constructs (lookaround, backreferences) that people copy
 * from other tools, and a single bad regex makes Envoy reject the whole route configuration.
 * So each one is compiled here with re2js (a port of RE2's parser) and a failure is SMI3009,
 * pointing at the offending character inside the YAML scalar, not just at its line
 * (parser/origin.ts `positionInScalar`).
 *
 * What one regex may cost is bounded, because a manifest is untrusted input to `lint` and to
 * `serve --watch` (where a slow check blocks the event loop): a regex longer than
 * MAX_REGEX_LENGTH is SMI3023 and never compiled, and a checked regex costs at most
 * 1 + ⌈log2(tokens)⌉ compiles (see errorOffset). A valid regex whose RE2 program Envoy would
 * refuse by default is SMI3024. Diagnostics quote at most QUOTE_LENGTH characters of a regex.
 */
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import type { FieldPath, Mesh } from '../ir/types.ts';
import { refOf } from './context.ts';
import { positionInScalar, positionOf } from '../parser/origin.ts';

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
  // Once no `:]` follows, none will: stop searching (`[[:[:[:…` would cost quadratic time).
  let posixClose = true;
  while (j < p.length && p[j] !== ']') {
    if (p[j] === '\\') j = escapeEnd(p, j);
    else if (posixClose && p.startsWith('[:', j)) {
      const e = p.indexOf(':]', j + 2);
      posixClose = e >= 0;
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
  return i + matchAt(/\(\?[a-zA-Z-]*[:)]?/y, p, i);
}

/** Length of `sticky`'s match at `i`, or 0. Sticky, not a slice per token: a pattern of many `{` or `(?` would cost time quadratic in its length. */
function matchAt(sticky: RegExp, p: string, i: number): number {
  sticky.lastIndex = i;
  return sticky.exec(p)?.[0].length ?? 0;
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
    else if (c === '{') end = i + (matchAt(/\{\d+(,\d*)?\}/y, p, i) || 1);
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

// ── Compiling, bounded ──────────────────────────────────────────────────────

/** Longer regexes are SMI3023 and never compiled: what checking one regex may cost is bounded. */
export const MAX_REGEX_LENGTH = 1024;

/** Envoy's default `re2.max_program_size.error_level`: it rejects a larger RE2 program. */
export const ENVOY_MAX_PROGRAM_SIZE = 100;

/**
 * Envoy's RE2 (C++) program for a pattern has re2js's instructions and two more, its
 * unanchored-search loop; more still where C++ RE2 spells a class out in UTF-8 byte ranges
 * (`.` is two instructions there, one here). Measured against Envoy 1.40: `a` is 3 here and 5
 * there, 97 literal characters 99 and 101. So re2js's size + 2 is a lower bound on Envoy's.
 */
const ENVOY_PROGRAM_EXTRA = 2;

/** Diagnostics quote at most this many characters of a regex (a manifest may hold megabytes in one). */
export const QUOTE_LENGTH = 64;

/** What RE2 makes of a pattern: its syntax error, or its program size. */
type Re2Outcome = { error: RE2JSSyntaxException } | { programSize: number };

function compileRe2(pattern: string): Re2Outcome {
  try {
    return { programSize: RE2JS.compile(pattern).programSize() };
  } catch (e) {
    if (!(e instanceof RE2JSSyntaxException)) throw e;
    return { error: e };
  }
}

/** The first QUOTE_LENGTH characters of `text`, never half a surrogate pair. */
function head(text: string): string {
  const cut = /[\uD800-\uDBFF]/.test(text[QUOTE_LENGTH - 1] ?? '') ? QUOTE_LENGTH - 1 : QUOTE_LENGTH;
  return text.slice(0, cut);
}

/** `text`, or its head and how long it was. */
function clip(text: string): string {
  return text.length <= QUOTE_LENGTH ? text : `${head(text)}… (${text.length} characters)`;
}

/** A regex as diagnostics show it: quoted, and clipped. */
export function quoteRegex(regex: string): string {
  return regex.length <= QUOTE_LENGTH ? `"${regex}"` : `"${head(regex)}…" (${regex.length} characters)`;
}

// ── Error offsets ───────────────────────────────────────────────────────────

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
 * can occur more than once (`\8x\8`). RE2 parses left to right and stops at its first error, so
 * a prefix cut between whole tokens fails with the same error and text once it reaches the
 * error's end, and never before: bisection finds the shortest such prefix in ⌈log2(tokens)⌉
 * compiles (one compile per prefix made an invalid regex of N characters cost O(N²) time: 84 s
 * for 20,000). The offending text is its last occurrence within that prefix. Cutting between
 * tokens matters: a prefix `\1` fails where the whole `\12` (an octal escape) is fine.
 */
function errorOffset(p: string, tokens: readonly Token[], err: RE2JSSyntaxException): number {
  if (err.error.startsWith('missing closing )')) return unbalancedParen(p, tokens, '(') ?? 0;
  if (err.error.startsWith('unexpected )')) return unbalancedParen(p, tokens, ')') ?? 0;
  if (err.error.startsWith('trailing backslash')) return Math.max(0, p.length - 1);
  const text = err.input;
  if (!text || tokens.length === 0) return 0;
  const failsAlike = (k: number): boolean => {
    const o = compileRe2(p.slice(0, tokens[k]!.end));
    return 'error' in o && o.error.error === err.error && o.error.input === text;
  };
  // The whole pattern (the last token) fails alike; find the first token whose prefix does.
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (failsAlike(mid)) hi = mid;
    else lo = mid + 1;
  }
  const end = tokens[hi]!.end;
  const at = p.lastIndexOf(text, end - text.length);
  return at < 0 ? tokens[hi]!.start : at;
}

/** Why RE2 rejects `regex` (which `err` says it does), and at which offset (UTF-16 code units). */
function locateError(regex: string, err: RE2JSSyntaxException): { offset: number; detail: string } {
  const tokens = tokenize(regex);
  const offset = errorOffset(regex, tokens, err);
  // When the error is a JavaScript construct, say so: re2js's own words ("invalid escape
  // sequence: \1") do not tell a user what they wrote or what to write instead.
  const at = tokens.find((t) => t.start <= offset && offset < t.end);
  const why = at && jsOnly(regex, at);
  if (at && why) return { offset: at.start, detail: why };
  // re2js quotes the whole regex for paren errors; the message already shows it.
  const quoted = err.input && err.input !== regex ? `: ${clip(err.input)}` : '';
  return { offset, detail: `${err.error}${quoted}` };
}

/**
 * Regexes made only of literal path characters, `.`, simple bracket classes (`[^/]`, `[0-9]`
 * is not: no ranges) and one `*`, `+` or `?` after each: valid RE2 by construction, so RE2 need
 * not compile them. Most route regexes are like this (`/api/v1/orders/[^/]+`, `/admin/.*`),
 * and a mesh has one per route group: at 1,000 services this skips ~2,000 compiles.
 * Each character of one is at most one re2js instruction, so up to PLAIN_MAX_LENGTH
 * characters its program is also within Envoy's default bound.
 */
const PLAINLY_VALID = /^(?:(?:[A-Za-z0-9_/-]|\.|\[\^?[A-Za-z0-9_/]+\])[*+?]?)*$/;
const PLAIN_MAX_LENGTH = ENVOY_MAX_PROGRAM_SIZE - ENVOY_PROGRAM_EXTRA - 2;

export type Re2Result = { ok: true } | { ok: false; offset: number; detail: string };

/**
 * Whether RE2 accepts `regex`, whatever its length; if not, the offset (in UTF-16 code units)
 * of the offending character and why. JavaScript-only constructs get a message that says so.
 */
export function isValidRe2(regex: string): Re2Result {
  const outcome = compileRe2(regex);
  return 'error' in outcome ? { ok: false, ...locateError(regex, outcome.error) } : { ok: true };
}

export type RegexVerdict =
  | { kind: 'valid' }
  | { kind: 'invalid'; offset: number; detail: string }
  | { kind: 'too-long' }
  | { kind: 'too-large'; programSize: number };

/** What the pass reports for `regex`: at most 1 + ⌈log2(MAX_REGEX_LENGTH)⌉ compiles, none when too long or plainly valid. */
export function checkRegex(regex: string): RegexVerdict {
  if (regex.length > MAX_REGEX_LENGTH) return { kind: 'too-long' };
  if (regex.length <= PLAIN_MAX_LENGTH && PLAINLY_VALID.test(regex)) return { kind: 'valid' };
  const outcome = compileRe2(regex);
  if ('error' in outcome) return { kind: 'invalid', ...locateError(regex, outcome.error) };
  const programSize = outcome.programSize + ENVOY_PROGRAM_EXTRA;
  return programSize > ENVOY_MAX_PROGRAM_SIZE ? { kind: 'too-large', programSize } : { kind: 'valid' };
}

// ── The pass ────────────────────────────────────────────────────────────────

/**
 * Reports SMI3009 for every `pathRegex` and header value regex that RE2 rejects (at the
 * offending character inside the scalar), SMI3023 for one too long to check, SMI3024 for one
 * whose program Envoy would refuse.
 */
export function validateRegexes(mesh: Mesh, reporter: Reporter): void {
  // Meshes repeat the same few regexes across hundreds of groups; check each once.
  const verdicts = new Map<string, RegexVerdict>();
  for (const group of mesh.httpRouteGroups) {
    const check = (regex: string, path: FieldPath): void => {
      let v = verdicts.get(regex);
      if (!v) verdicts.set(regex, (v = checkRegex(regex)));
      if (v.kind === 'valid') return;
      const quoted = quoteRegex(regex);
      const ref = refOf(group);
      if (v.kind === 'invalid') {
        const at = positionInScalar(group.origin, path, regex, v.offset);
        reporter.report(diagnostic('invalid-regex', { regex: quoted, detail: v.detail }, at, ref));
      } else if (v.kind === 'too-long') {
        reporter.report(diagnostic('regex-too-long', { regex: quoted, limit: MAX_REGEX_LENGTH }, positionOf(group.origin, path), ref));
      } else {
        const args = { regex: quoted, size: v.programSize, limit: ENVOY_MAX_PROGRAM_SIZE };
        reporter.report(diagnostic('regex-program-size', args, positionOf(group.origin, path), ref));
      }
    };
    for (const match of group.matches) {
      if (match.pathRegex !== undefined) check(match.pathRegex, [...match.path, 'pathRegex']);
      // HeaderMatch.path names the header's value node.
      for (const header of match.headers) check(header.value, header.path);
    }
  }
}
