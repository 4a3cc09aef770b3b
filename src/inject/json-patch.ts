/**
 * An RFC 6902 JSON Patch from one JSON value to another, what an admission webhook returns.
 * Objects are compared key by key, arrays element by element over their common length, then
 * appended to or cut from the end: the injector appends containers and volumes and rewrites probes
 * inside containers, so the patch names exactly those (and the offline command, applying it to the
 * YAML document, keeps every comment elsewhere).
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
  if (Array.isArray(from) && Array.isArray(to)) {
    const ops: PatchOp[] = [];
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) ops.push(...jsonPatch(from[i], to[i], `${path}/${i}`));
    for (let i = common; i < to.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: to[i] });
    for (let i = from.length - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
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
    if (Array.isArray(parent)) {
      if (op.op === 'remove') parent.splice(Number(last), 1);
      else if (op.op === 'add') parent.splice(Number(last), 0, structuredClone(op.value));
      else parent[Number(last)] = structuredClone(op.value);
    } else if (op.op === 'remove') delete parent[last];
    else parent[last] = structuredClone(op.value);
  }
  return root;
}
