/**
 * Versions and nonces.
 *
 * Versions are content hashes, never counters or timestamps: two replicas of the server that
 * compile the same input hand out the same `version_info`, so a proxy that reconnects to another
 * replica is not sent a config it already has, and a version in a log line identifies content.
 *
 * Nonces, on the contrary, only need to be unique within one stream; they are counters.
 */
import { createHash } from 'node:crypto';

/** 96 bits of SHA-256, base64url: short enough for logs, far from any collision risk here. */
export function contentHash(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url').slice(0, 16);
}

/**
 * The version of a set of resources (a SotW response, a proxy's whole config): the hash of its
 * `name=version` lines in name order, so it does not depend on the order resources were added.
 */
export function setVersion(entries: Iterable<{ readonly name: string; readonly version: string }>): string {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.name}=${e.version}`);
  lines.sort();
  return contentHash(lines.join('\n'));
}

/** Per-stream nonces: `<prefix>-<n>`. The prefix keeps nonces from different streams apart in logs. */
export class NonceSource {
  private n = 0;
  constructor(private readonly prefix: string) {}
  next(): string {
    this.n += 1;
    return `${this.prefix}-${this.n.toString(36)}`;
  }
}
