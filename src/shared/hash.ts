/**
 * SHA-256 as the code base uses it for content it shows or compares: of a text or bytes, and of
 * a file (a tree's manifest, a CA bundle annotation, a trust bundle's identity).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** SHA-256 of `data`, as 64 hexadecimal digits (what `sha256sum` prints). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * SHA-256 of a file's bytes, as 64 hexadecimal digits, read through one reusable buffer: proving
 * a large tree ours reads every file once, and a Buffer per file lives off the V8 heap, freed late.
 */
export function sha256File(path: string, chunk: Buffer = Buffer.allocUnsafe(1 << 16)): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
