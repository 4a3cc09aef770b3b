/**
 * Who holds the heap: a V8 heap snapshot (`.heapsnapshot`, as serve-child's `heap-snapshot`
 * command writes it) reduced to its dominator tree, printed top-down down to a size threshold,
 * plus self size by constructor. A node's retained size is what a GC would free without it, so
 * the tree says which owner (the parse cache, the snapshot, the streams) costs what, which
 * `process.memoryUsage()` cannot.
 *
 *   node --max-old-space-size=8000 --import tsx bench/heap-owners.ts FILE [--min-mib 1] [--depth 14]
 *       [--owner NAME=edge:EDGE | NAME=ctor:CONSTRUCTOR]... [--json]
 *
 * Weak edges do not retain (as in Chrome's DevTools). Dominators by Lengauer–Tarjan (the simple
 * variant, path compression only), over typed arrays: a 10,000-stream server's snapshot (≈4 M
 * nodes) takes seconds.
 */
import { readFileSync } from 'node:fs';

interface Raw {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface OwnerLine {
  readonly depth: number;
  readonly edge: string;
  readonly node: string;
  readonly retainedMiB: number;
  readonly selfMiB: number;
}

export interface HeapOwners {
  readonly totalMiB: number;
  readonly tree: OwnerLine[];
  /** Self size by which of the named owners reach it as data ('+'-joined; 'elsewhere': reachable from the roots without passing an owner). */
  readonly shares: { owners: string; objects: number; MiB: number; top: { name: string; count: number; MiB: number }[] }[];
  readonly byConstructor: { name: string; count: number; selfMiB: number }[];
}

const MiB = 1024 * 1024;

/**
 * An owner: every node reached by an edge of this name (`edge:current`) or of this constructor
 * (`ctor:SotwStream`). Objects shared between owners are what a dominator tree hides (it hangs
 * them on a common ancestor); `shares` splits the heap by which owners reach each object.
 */
export type OwnerSelector = { readonly name: string; readonly edge?: string; readonly ctor?: string };

export function heapOwners(file: string, minMiB = 1, maxDepth = 14, owners: readonly OwnerSelector[] = []): HeapOwners {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Raw;
  const meta = raw.snapshot.meta;
  const NF = meta.node_fields.length;
  const EF = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf('type');
  const nName = meta.node_fields.indexOf('name');
  const nSelf = meta.node_fields.indexOf('self_size');
  const nEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const WEAK = edgeTypes.indexOf('weak');
  const SHORTCUT = edgeTypes.indexOf('shortcut');
  const { nodes, edges, strings } = raw;
  const N = nodes.length / NF;

  const firstEdge = new Uint32Array(N + 1);
  for (let i = 0; i < N; i++) firstEdge[i + 1] = firstEdge[i] + nodes[i * NF + nEdges];
  const retains = (e: number): boolean => edges[e * EF + eType] !== WEAK && edges[e * EF + eType] !== SHORTCUT;
  const target = (e: number): number => edges[e * EF + eTo] / NF;

  // Depth-first preorder from the synthetic root (node 0).
  const order = new Int32Array(N).fill(-1);
  const vertex = new Int32Array(N);
  const parent = new Int32Array(N).fill(-1);
  const stackNode = new Int32Array(N);
  const stackEdge = new Uint32Array(N);
  let count = 0;
  let sp = 0;
  order[0] = count;
  vertex[count++] = 0;
  stackNode[sp] = 0;
  stackEdge[sp++] = firstEdge[0];
  while (sp > 0) {
    const v = stackNode[sp - 1];
    const e = stackEdge[sp - 1];
    if (e >= firstEdge[v + 1]) {
      sp--;
      continue;
    }
    stackEdge[sp - 1] = e + 1;
    if (!retains(e)) continue;
    const w = target(e);
    if (order[w] !== -1) continue;
    parent[w] = v;
    order[w] = count;
    vertex[count++] = w;
    stackNode[sp] = w;
    stackEdge[sp++] = firstEdge[w];
  }

  // Predecessors (reachable, retaining edges only), as CSR.
  const predCount = new Uint32Array(N + 1);
  for (let v = 0; v < N; v++) {
    if (order[v] === -1) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) if (retains(e)) predCount[target(e) + 1]++;
  }
  for (let i = 0; i < N; i++) predCount[i + 1] += predCount[i];
  const preds = new Int32Array(predCount[N]);
  const fill = predCount.slice(0, N);
  for (let v = 0; v < N; v++) {
    if (order[v] === -1) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) if (retains(e)) preds[fill[target(e)]++] = v;
  }

  // Lengauer–Tarjan; semi holds preorder numbers.
  const semi = new Int32Array(N);
  const label = new Int32Array(N);
  const ancestor = new Int32Array(N).fill(-1);
  const idom = new Int32Array(N).fill(-1);
  const bucketHead = new Int32Array(N).fill(-1);
  const bucketNext = new Int32Array(N).fill(-1);
  for (let v = 0; v < N; v++) {
    semi[v] = order[v];
    label[v] = v;
  }
  const path: number[] = [];
  const evaluate = (v: number): number => {
    if (ancestor[v] === -1) return v;
    path.length = 0;
    let x = v;
    while (ancestor[ancestor[x]] !== -1) {
      path.push(x);
      x = ancestor[x];
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const y = path[i];
      const a = ancestor[y];
      if (semi[label[a]] < semi[label[y]]) label[y] = label[a];
      ancestor[y] = ancestor[a];
    }
    return label[v];
  };
  for (let i = count - 1; i >= 1; i--) {
    const w = vertex[i];
    for (let p = predCount[w]; p < predCount[w + 1]; p++) {
      const u = evaluate(preds[p]);
      if (semi[u] < semi[w]) semi[w] = semi[u];
    }
    const s = vertex[semi[w]];
    bucketNext[w] = bucketHead[s];
    bucketHead[s] = w;
    const pw = parent[w];
    ancestor[w] = pw;
    for (let v = bucketHead[pw]; v !== -1; v = bucketNext[v]) {
      const u = evaluate(v);
      idom[v] = semi[u] < semi[v] ? u : pw;
    }
    bucketHead[pw] = -1;
  }
  for (let i = 1; i < count; i++) {
    const w = vertex[i];
    if (idom[w] !== vertex[semi[w]]) idom[w] = idom[idom[w]];
  }
  idom[0] = 0;

  const retained = new Float64Array(N);
  for (let v = 0; v < N; v++) if (order[v] !== -1) retained[v] = nodes[v * NF + nSelf];
  for (let i = count - 1; i >= 1; i--) retained[idom[vertex[i]]] += retained[vertex[i]];

  const children = new Map<number, number[]>();
  for (let i = 1; i < count; i++) {
    const v = vertex[i];
    if (retained[v] < minMiB * MiB) continue;
    const list = children.get(idom[v]) ?? [];
    list.push(v);
    children.set(idom[v], list);
  }
  const describe = (v: number): string => {
    const type = nodeTypes[nodes[v * NF + nType]];
    const name = strings[nodes[v * NF + nName]];
    return type === 'object' || type === 'closure' ? `${name}` : `(${type}) ${name.length > 60 ? `${name.slice(0, 60)}…` : name}`;
  };
  // The edge by which the dominator (or, failing that, the DFS parent) reaches v.
  const edgeTo = (from: number, v: number): string | undefined => {
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e++) {
      if (target(e) !== v) continue;
      const t = edgeTypes[edges[e * EF + eType]];
      const n = edges[e * EF + eName];
      return t === 'element' || t === 'hidden' ? `[${n}]` : t === 'internal' ? `<${strings[n]}>` : strings[n];
    }
    return undefined;
  };
  const tree: OwnerLine[] = [];
  const walk = (v: number, depth: number): void => {
    const kids = (children.get(v) ?? []).sort((a, b) => retained[b] - retained[a]);
    for (const k of kids) {
      const edge = edgeTo(v, k) ?? `~${edgeTo(parent[k], k) ?? '?'}`;
      tree.push({ depth, edge, node: describe(k), retainedMiB: retained[k] / MiB, selfMiB: nodes[k * NF + nSelf] / MiB });
      if (depth < maxDepth) walk(k, depth + 1);
    }
  };
  walk(0, 0);

  const ctor = new Map<string, { count: number; self: number }>();
  for (let v = 0; v < N; v++) {
    if (order[v] === -1) continue;
    const type = nodeTypes[nodes[v * NF + nType]];
    const key = type === 'object' ? strings[nodes[v * NF + nName]] : `(${type})`;
    const c = ctor.get(key) ?? { count: 0, self: 0 };
    c.count++;
    c.self += nodes[v * NF + nSelf];
    ctor.set(key, c);
  }
  const byConstructor = [...ctor]
    .map(([name, c]) => ({ name, count: c.count, selfMiB: c.self / MiB }))
    .sort((a, b) => b.selfMiB - a.selfMiB)
    .slice(0, 40);
  // Which owners reach each node (as data): one bit per owner; bit 31 = reachable from the roots
  // by any path that passes no owner. Only what no other path reaches is freed with its owners.
  const mask = new Uint32Array(N);
  const isOwner = new Uint8Array(N);
  const seeds: number[][] = owners.map(() => []);
  for (let v = 0; v < N; v++) {
    if (order[v] === -1) continue;
    const name = strings[nodes[v * NF + nName]];
    owners.forEach((o, i) => {
      if (o.ctor && nodeTypes[nodes[v * NF + nType]] === 'object' && name === o.ctor) seeds[i].push(v);
    });
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) {
      const t = edgeTypes[edges[e * EF + eType]];
      if (t === 'element' || t === 'hidden' || !retains(e)) continue;
      const en = strings[edges[e * EF + eName]];
      owners.forEach((o, i) => {
        if (o.edge && en === o.edge) seeds[i].push(target(e));
      });
    }
  }
  for (const list of seeds) for (const v of list) isOwner[v] = 1;
  // Owners share the code and the globals through closures, contexts, shapes and prototypes: an
  // owner's own data is what it reaches through data edges alone.
  const CODEISH = new Set(['closure', 'code', 'object shape', 'hidden', 'native']);
  const dataEdge = (e: number, w: number): boolean => {
    const t = edgeTypes[edges[e * EF + eType]];
    if (t === 'property' || t === 'internal') {
      const en = strings[edges[e * EF + eName]];
      if (en === '__proto__' || en === 'constructor' || en === 'map' || en === 'prototype') return false;
    }
    const type = nodeTypes[nodes[w * NF + nType]];
    if (CODEISH.has(type) && !(type === 'native' && strings[nodes[w * NF + nName]].includes('ArrayBufferData'))) return false;
    return !strings[nodes[w * NF + nName]].startsWith('system / ');
  };
  const flood = (start: number[], bit: number, stopAtOwners: boolean): void => {
    const stack = [...start];
    for (const v of start) mask[v] |= bit;
    while (stack.length > 0) {
      const v = stack.pop()!;
      for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) {
        if (!retains(e)) continue;
        const w = target(e);
        if (mask[w] & bit) continue;
        if (stopAtOwners && isOwner[w]) continue;
        if (!stopAtOwners && !dataEdge(e, w)) continue;
        mask[w] |= bit;
        stack.push(w);
      }
    }
  };
  seeds.forEach((list, i) => flood(list, 1 << i, false));
  if (owners.length > 0) flood([0], 1 << 31, true);
  const shareBy = new Map<number, { objects: number; size: number; kinds: Map<string, { count: number; size: number }> }>();
  for (let v = 0; v < N; v++) {
    if (order[v] === -1) continue;
    const m = mask[v];
    const s = shareBy.get(m) ?? { objects: 0, size: 0, kinds: new Map() };
    s.objects++;
    const self = nodes[v * NF + nSelf];
    s.size += self;
    const type = nodeTypes[nodes[v * NF + nType]];
    const kind = type === 'object' ? strings[nodes[v * NF + nName]] : `(${type})`;
    const k = s.kinds.get(kind) ?? { count: 0, size: 0 };
    k.count++;
    k.size += self;
    s.kinds.set(kind, k);
    shareBy.set(m, s);
  }
  const shares = [...shareBy]
    .map(([m, s]) => ({
      owners: m === 0 ? '(only through owners, not as data: their code, closures, shapes)' : [...owners.filter((_, i) => m & (1 << i)).map((o) => o.name), ...(m & 0x80000000 ? ['elsewhere'] : [])].join('+'),
      objects: s.objects,
      MiB: s.size / MiB,
      top: [...s.kinds]
        .map(([name, k]) => ({ name, count: k.count, MiB: k.size / MiB }))
        .sort((a, b) => b.MiB - a.MiB)
        .slice(0, 6),
    }))
    .sort((a, b) => b.MiB - a.MiB);
  return { totalMiB: retained[0] / MiB, tree, byConstructor, shares };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node --import tsx bench/heap-owners.ts FILE.heapsnapshot [--min-mib 1] [--depth 14] [--json]');
    process.exit(2);
  }
  const opt = (name: string, d: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const owners: OwnerSelector[] = [];
  args.forEach((a, i) => {
    if (a !== '--owner') return;
    const [name, sel] = (args[i + 1] ?? '').split('=');
    const [kind, value] = (sel ?? '').split(':');
    owners.push(kind === 'ctor' ? { name, ctor: value } : { name, edge: value });
  });
  const r = heapOwners(file, opt('--min-mib', 1), opt('--depth', 14), owners);
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  console.log(`reachable heap ${r.totalMiB.toFixed(1)} MiB; dominator tree (retained / self MiB):`);
  for (const l of r.tree) console.log(`${'  '.repeat(l.depth)}${l.retainedMiB.toFixed(1).padStart(7)} ${l.selfMiB.toFixed(1).padStart(5)}  ${l.edge}: ${l.node}`);
  if (r.shares.length > 0) {
    console.log('\nself size by the owners that reach it (MiB, objects):');
    for (const x of r.shares) {
      console.log(`${x.MiB.toFixed(1).padStart(8)}  ${String(x.objects).padStart(9)}  ${x.owners}`);
      if (x.MiB >= 1) console.log(`${' '.repeat(20)}${x.top.map((t) => `${t.name} ${t.MiB.toFixed(1)} (${t.count})`).join(', ')}`);
    }
  }
  console.log('\nself size by constructor (MiB, count):');
  for (const c of r.byConstructor) console.log(`${c.selfMiB.toFixed(1).padStart(8)}  ${String(c.count).padStart(9)}  ${c.name}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) main();
