/**
 * Where `--check` keeps the patches it finds until it prints them: a temporary file, not memory.
 * A change that rewrites a permissive mesh's goldens is gigabytes of diff; the run's memory must
 * not grow with it. The patches are printed at the end, as before (after the diagnostics, only if
 * the compile succeeded), and the file is removed whatever happens.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

const CHUNK = 1 << 20;

export class PatchSpool {
  private dir: string | undefined;
  private fd: number | undefined;
  private bytes = 0;

  /** Appends one patch (opens the file on the first). */
  add(patch: string): void {
    if (this.fd === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'smi-compile-check-'));
      this.fd = openSync(join(this.dir, 'patches.diff'), 'w+', 0o600);
    }
    this.bytes += writeSync(this.fd, patch);
  }

  /** Hands every patch, in the order added, to `out`, a megabyte at a time. */
  replay(out: (text: string) => void): void {
    if (this.fd === undefined) return;
    const buffer = Buffer.allocUnsafe(CHUNK);
    const decoder = new StringDecoder('utf8');
    for (let position = 0; position < this.bytes; ) {
      const n = readSync(this.fd, buffer, 0, CHUNK, position);
      if (n === 0) break;
      position += n;
      out(decoder.write(buffer.subarray(0, n)));
    }
    const rest = decoder.end();
    if (rest) out(rest);
  }

  /** Removes the file. Idempotent. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.fd = undefined;
    this.dir = undefined;
  }
}
