/**
 * Strings of parsed documents that keep nothing else alive.
 *
 * js-yaml hands out every scalar of 13 characters or more as a slice of its copy of the
 * document's text (V8's SlicedString keeps its parent, and js-yaml's copy is the document with
 * a NUL appended), and shorter ones as fresh copies each. `serve --watch` keeps the resources
 * built from every file between compiles (src/compiler/compile-memo.ts), so every document's
 * text stayed in memory a second time, beside the file's own, and the same label, port name or
 * API version once per occurrence: ≈ 4 MiB at 1,000 services (bench/README.md, "Strings of the
 * parsed documents").
 *
 * One table per file: equal strings of a file become one string that owns its characters. A
 * table for the whole process would have to forget strings no file holds any more; files are
 * where the repetition is (a namespace's Services, Deployments and EndpointSlices).
 */

/** V8 makes substrings at least this long slices of their parent (SlicedString::kMinLength). */
const SLICE_MIN_LENGTH = 13;

export class OwnedStrings {
  private readonly table = new Map<string, string>();

  /** The table's string equal to `s`: the first one seen, copied when it may be a slice. */
  string(s: string): string {
    let owned = this.table.get(s);
    if (owned === undefined) {
      // A new flat string (the concatenation is flattened by the slice) whose slice keeps only it.
      owned = s.length < SLICE_MIN_LENGTH ? s : (' ' + s).slice(1);
      this.table.set(owned, owned);
    }
    return owned;
  }

  /**
   * `value` with every string in it replaced by the table's: arrays and plain objects are
   * edited in place (they are the loader's fresh ones), keys are left as they are (V8 already
   * keeps one copy of each property name).
   */
  values<T>(value: T): T {
    if (typeof value === 'string') return this.string(value) as T;
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.values(value[i]);
    } else if (isPlainObject(value)) {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const v = this.values(record[key]);
        // `__proto__` is an own data property here (the loaders define it so); assigning would set the prototype.
        if (key === '__proto__') Object.defineProperty(record, key, { value: v, writable: true, enumerable: true, configurable: true });
        else record[key] = v;
      }
    }
    return value;
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
