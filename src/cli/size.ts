/** `--max-file-size`: a byte count, with an optional binary suffix (`16MiB`, `512k`, `1G`). */
import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

export function parseByteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  // K, M and G are binary here, as in Kubernetes quantities' Ki/Mi/Gi: sizes of files, not of disks.
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidArgumentError('must be a size in bytes, optionally with a unit: 16777216, 16MiB, 512KiB');
  }
  return bytes;
}
