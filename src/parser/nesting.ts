/**
 * A cheap, linear pre-scan of a YAML document's nesting depth, run before any YAML library
 * sees the text.
 *
 * Why: both YAML libraries recurse per nesting level. A few hundred kilobytes of `[[[[…` take
 * `yaml` seconds before it overflows the stack, and a megabyte of balanced brackets exhausts
 * the heap and kills the process (V8 aborts; no exception to catch). The depth check on the
 * loaded value (documents.ts) comes too late for that. This scan does not parse YAML: it
 * estimates depth from flow brackets (outside quotes and comments), block indentation and
 * compact `- `/`? `/`: ` indicators, skipping block scalars. The estimate can be off by a
 * little on odd but valid YAML, so callers compare it with a threshold far above the real
 * depth limit: only input that is absurd by any reading is stopped here; everything else goes
 * on to the exact check after loading.
 */

/** Offset where the estimated nesting first exceeds `limit`, or -1. Scans `text[start, end)`. */
export function nestingBeyond(text: string, limit: number, start = 0, end = text.length): number {
  if (boundedBelow(text, limit, start, end)) return -1;
  let flow = 0;
  // Block context: columns of the enclosing nodes, innermost last.
  const indents: number[] = [];
  let i = start;
  let lineStart = true;
  while (i < end) {
    if (lineStart && flow === 0) {
      lineStart = false;
      const lineBegin = i;
      while (i < end && text.charCodeAt(i) === 0x20) i++;
      const c = text.charCodeAt(i);
      if (i >= end || c === 0x0a || c === 0x0d || c === 0x23 /* # */) continue; // blank or comment line
      const indent = i - lineBegin;
      while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
      // Compact nesting on one line: `- - - a`, `? - a`, `- key: - a` is not valid but costs nothing.
      while (i + 1 < end && isIndicator(text.charCodeAt(i)) && isBlank(text.charCodeAt(i + 1))) {
        i += 2;
        while (i < end && text.charCodeAt(i) === 0x20) i++;
        indents.push(i - lineBegin);
        if (indents.length > limit) return i;
      }
      if (indents.length > limit) return i;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      i++;
      lineStart = true;
      continue;
    }
    const tokenStart = i === start || isBlank(text.charCodeAt(i - 1)) || isFlowOrValue(text.charCodeAt(i - 1));
    if (c === 0x23 /* # */ && (i === start || isBlank(text.charCodeAt(i - 1)))) {
      i = lineEnd(text, i, end);
    } else if (c === 0x22 /* " */ && tokenStart) {
      i = afterDoubleQuoted(text, i + 1, end);
    } else if (c === 0x27 /* ' */ && tokenStart) {
      i = afterSingleQuoted(text, i + 1, end);
    } else if ((c === 0x5b || c === 0x7b) /* [ { */ && (flow > 0 || tokenStart)) {
      flow++;
      if (indents.length + flow > limit) return i;
      i++;
    } else if ((c === 0x5d || c === 0x7d) /* ] } */ && flow > 0) {
      flow--;
      i++;
    } else if ((c === 0x7c || c === 0x3e) /* | > */ && flow === 0 && tokenStart && isBlockScalarHeader(text, i + 1, end)) {
      i = afterBlockScalar(text, i, end);
      lineStart = true;
    } else {
      i++;
    }
  }
  return -1;
}

/**
 * True when no estimate of the scan below can exceed `limit`, found with native searches only:
 * block levels each sit at a greater column than the one they are in (so there are no more of
 * them than the longest line has characters), and flow levels each need an opening bracket.
 * Almost every manifest passes, and skips the character-by-character scan.
 */
function boundedBelow(text: string, limit: number, start: number, end: number): boolean {
  let budget = limit - 1;
  for (const bracket of ['[', '{']) {
    for (let at = text.indexOf(bracket, start); at !== -1 && at < end; at = text.indexOf(bracket, at + 1)) {
      if (--budget < 0) return false;
    }
  }
  let lineStart = start;
  while (lineStart < end) {
    let next = text.indexOf('\n', lineStart);
    if (next === -1 || next > end) next = end;
    if (next - lineStart > budget) return false;
    lineStart = next + 1;
  }
  return true;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || Number.isNaN(c);
}

function isIndicator(c: number): boolean {
  return c === 0x2d /* - */ || c === 0x3f /* ? */ || c === 0x3a /* : */;
}

/** Characters after which a new token starts: flow indicators and the `:` of a flow pair. */
function isFlowOrValue(c: number): boolean {
  return c === 0x5b || c === 0x7b || c === 0x2c || c === 0x3a;
}

function lineEnd(text: string, i: number, end: number): number {
  const eol = text.indexOf('\n', i);
  return eol < 0 || eol > end ? end : eol;
}

function afterDoubleQuoted(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return end;
}

function afterSingleQuoted(text: string, i: number, end: number): number {
  while (i < end) {
    if (text.charCodeAt(i) === 0x27) {
      if (text.charCodeAt(i + 1) === 0x27) i += 2; // '' is an escaped quote
      else return i + 1;
    } else i++;
  }
  return end;
}

/** `|` or `>`, then indentation/chomping indicators, then blanks, a comment or the line end. */
function isBlockScalarHeader(text: string, i: number, end: number): boolean {
  while (i < end && /[0-9+-]/.test(text[i])) i++;
  while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
  return i >= end || text[i] === '\n' || text[i] === '\r' || text[i] === '#';
}

/** Skips a block scalar's header line and every following line indented deeper than the header's line (or blank). */
function afterBlockScalar(text: string, headerAt: number, end: number): number {
  const headerLineStart = text.lastIndexOf('\n', headerAt - 1) + 1;
  let parentIndent = 0;
  while (text.charCodeAt(headerLineStart + parentIndent) === 0x20) parentIndent++;
  let i = lineEnd(text, headerAt, end);
  while (i < end) {
    const next = i + 1; // start of the next line
    let j = next;
    while (j < end && text.charCodeAt(j) === 0x20) j++;
    const blank = j >= end || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d;
    if (!blank && j - next <= parentIndent) return next;
    i = lineEnd(text, j, end);
  }
  return end;
}
