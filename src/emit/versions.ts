/**
 * Versions are content hashes, never counters or timestamps: two replicas of the server that
 * compile the same input hand out the same `version_info`, so a proxy that reconnects to another
 * replica is not sent a config it already has, and a version in a log line identifies content.
 * (Nonces, on the contrary, only need to be unique within one stream: a stream counts them,
 * stream-core.ts `nextNonce`.)
 */
import { createHash } from 'node:crypto';

/** 96 bits of SHA-256, base64url: short enough for logs, far from any collision risk here. */
export function contentHash(data: string | Uint8Array): string {
  // The first 12 bytes are the first 16 characters of the digest in base64url, made as a string of
  // their own: a slice of the whole digest's text would keep that text too (64 bytes more for
  // each version a snapshot holds).
  return createHash('sha256').update(data).digest().toString('base64url', 0, 12);
}

/**
 * A resource's version: the hash of its type and JSON text. Serve's delta versions, and what the
 * SotW set versions, config dumps (src/compiler/config-dump.ts) and the compile worker are built
 * from. `texts` makes the text of a resource's frozen parts once (same text as JSON.stringify).
 */
export function resourceVersion(typeUrl: string, json: object, texts?: JsonTexts): string {
  return contentHash(`${typeUrl}\n${texts ? texts.resource(json) : JSON.stringify(json)}`);
}

/**
 * `JSON.stringify`, character for character, remembering the text of frozen objects.
 *
 * Emit builds each proxy's listeners, route configurations and secrets afresh on every compile,
 * but most of what is inside them (filter chains, virtual hosts, ...) is frozen and shared
 * (src/emit/session.ts), by proxies and across compiles. A resource's version is the hash of its
 * JSON text; with the texts of its frozen parts remembered, only its fresh parts are serialized
 * again.
 * The text is the same as `JSON.stringify`'s, so versions do not change.
 *
 * Frozen objects are the ones nobody may edit, so their text stays right; it is kept in a WeakMap
 * and goes when they do. A top-level resource's own text is not kept (callers remember its version).
 */
export class JsonTexts {
  private readonly texts = new WeakMap<object, string>();

  /** `JSON.stringify(value)` (undefined for what it gives undefined). */
  of(value: unknown): string | undefined {
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    if (Object.isFrozen(value)) {
      let t = this.texts.get(value);
      if (t === undefined) {
        t = JSON.stringify(value);
        this.texts.set(value, t);
      }
      return t;
    }
    return this.fresh(value);
  }

  /** The text of a resource, without keeping it. */
  resource(value: object): string {
    return Object.isFrozen(value) ? JSON.stringify(value) : this.fresh(value);
  }

  private fresh(value: object): string {
    // What JSON.stringify does differently from the walk below: toJSON, and exotic objects.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value);
    if (Array.isArray(value)) {
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        const t = this.of(value[i]);
        out += `${i > 0 ? ',' : ''}${t === undefined ? 'null' : t}`;
      }
      return `${out}]`;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return JSON.stringify(value);
    let out = '{';
    let first = true;
    for (const key of Object.keys(value)) {
      const t = this.of((value as Record<string, unknown>)[key]);
      if (t === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(key)}:${t}`;
      first = false;
    }
    return `${out}}`;
  }
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
