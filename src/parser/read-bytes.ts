/**
 * Bytes → text, for files and standard input: reads that stop past a size limit, so that a huge
 * or endless input cannot exhaust memory, and the checks that the bytes are text (UTF-8, no NUL
 * byte), each failure a diagnostic at the offending byte.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import { positionInText } from './origin.ts';

/** Reads at most limit + 1 bytes, so a huge or endless file cannot exhaust memory. */
export function readBounded(path: string, limit: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
      total += n;
      if (total > limit) break;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads file descriptor 0 up to `maxBytes`, so that `cat /dev/zero | smi-compile -` stops at
 * the limit instead of exhausting memory. A non-blocking stdin (some terminals and pipes set
 * O_NONBLOCK) answers EAGAIN until data arrives; wait a little and retry.
 */
export function readStdinBounded(maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(1 << 16);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (total < maxBytes) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, Math.min(chunk.length, maxBytes - total), null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 10);
        continue;
      }
      if (code === 'EOF') break; // Windows reports the end of a pipe this way
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(chunk.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks, total);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function decode(path: string, buffer: Buffer, reporter: Reporter): string | undefined {
  try {
    return UTF8.decode(buffer);
  } catch {
    const offset = firstInvalidUtf8(buffer);
    const prefix = buffer.subarray(0, offset).toString('utf8');
    reporter.report(diagnostic('binary-input', { detail: `invalid UTF-8 at byte ${offset}` }, positionInText(path, prefix, prefix.length)));
    return undefined;
  }
}

/** A NUL byte is valid UTF-8 but no YAML or JSON manifest contains one: it is binary. */
export function checkText(path: string, text: string, reporter: Reporter): boolean {
  const nul = text.indexOf('\0');
  if (nul < 0) return true;
  reporter.report(diagnostic('binary-input', { detail: `NUL byte at offset ${nul}` }, positionInText(path, text, nul)));
  return false;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(buffer: Buffer): number {
  let i = 0;
  while (i < buffer.length) {
    const b = buffer[i];
    // Sequence length from the lead byte, and the allowed range of the second byte
    // (which rules out overlong forms, surrogates and code points past U+10FFFF).
    let n = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) n = 1;
    else if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b >= 0xe0 && b <= 0xef) [n, lo, hi] = [3, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf];
    else if (b >= 0xf0 && b <= 0xf4) [n, lo, hi] = [4, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf];
    else return i;
    for (let k = 1; k < n; k++) {
      const c = buffer[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n;
  }
  return i;
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
