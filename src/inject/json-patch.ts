/**
 * An RFC 6902 JSON Patch from one JSON value to another, what an admission webhook returns.
 * Objects are compared key by key; an array that changed is replaced whole (the injector appends
 * to containers and rewrites probes inside them: element-wise moves would save bytes, not meaning).
 */
export interface PatchOp {
  readonly op: 'add' | 'remove' | 'replace';
  readonly path: string;
  readonly value?: unknown;
}

const pointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function jsonPatch(from: unknown, to: unknown, path = ''): PatchOp[] {
  if (isObject(from) && isObject(to)) {
    const ops: PatchOp[] = [];
    for (const key of Object.keys(from)) if (!(key in to)) ops.push({ op: 'remove', path: `${path}/${pointer(key)}` });
    for (const key of Object.keys(to)) {
      const at = `${path}/${pointer(key)}`;
      if (!(key in from)) ops.push({ op: 'add', path: at, value: to[key] });
      else ops.push(...jsonPatch(from[key], to[key], at));
    }
    return ops;
  }
  return same(from, to) ? [] : [{ op: 'replace', path, value: to }];
}

/** Applies a patch made by `jsonPatch` (add, remove, replace on objects; the tests' check that it round-trips). */
export function applyPatch(value: unknown, ops: readonly PatchOp[]): unknown {
  let root = structuredClone(value);
  for (const op of ops) {
    const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (keys.length === 0) {
      root = structuredClone(op.value);
      continue;
    }
    let parent: any = root;
    for (const k of keys.slice(0, -1)) parent = parent[k];
    const last = keys[keys.length - 1];
    if (op.op === 'remove') delete parent[last];
    else parent[last] = structuredClone(op.value);
  }
  return root;
}
