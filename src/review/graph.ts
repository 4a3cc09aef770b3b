/**
 * The mesh as a picture: workloads and services as nodes; a service's selection of its workloads,
 * each allowed call (labelled with its routes or port) and each split (with its weights) as edges;
 * a workload nothing may call marked as denied by default. Built from access edges (edges.ts),
 * rendered as JSON, Mermaid, DOT, or SVG (DOT laid out by Graphviz compiled to WebAssembly).
 */
import type { PlannedMesh } from '../passes/plan.ts';
import { nodeId, workloadNodeId } from '../ir/names.ts';
import { accessEdges, splitViews } from './edges.ts';
import { byKey, compareStrings } from '../shared/compare.ts';

export interface GraphNode {
  /** `workload:ns/name` or `service:ns/name` */
  readonly id: string;
  readonly kind: 'workload' | 'service';
  readonly namespace: string;
  readonly name: string;
  /** A workload no access edge reaches: restrictive by default and nothing admits a caller. */
  readonly deniedByDefault?: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** `selects`: service → the workloads behind it; `calls`: workload → service it may call; `splits`: apex → backend. */
  readonly kind: 'selects' | 'calls' | 'splits';
  /** One line per route (`GET /books-bought`, `tcp:3306`), the ports selected, or the weight. */
  readonly label: readonly string[];
}

export interface MeshGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const workloadId = (key: string) => `workload:${key}`;
const serviceId = (key: string) => `service:${key}`;

function pushLabel(map: Map<string, { from: string; to: string; kind: GraphEdge['kind']; label: string[] }>, from: string, to: string, kind: GraphEdge['kind'], line: string): void {
  const key = `${kind}|${from}|${to}`;
  const edge = map.get(key) ?? { from, to, kind, label: [] };
  if (!edge.label.includes(line)) edge.label.push(line);
  map.set(key, edge);
}

/** The graph; with `namespace`, only what touches it: its nodes, and the nodes elsewhere its edges reach. */
export function meshGraph(mesh: PlannedMesh, namespace?: string): MeshGraph {
  const edges = new Map<string, { from: string; to: string; kind: GraphEdge['kind']; label: string[] }>();
  const callable = new Set<string>();
  for (const [key, binding] of mesh.bindings.services) {
    for (const w of binding.workloads) pushLabel(edges, serviceId(key), workloadId(workloadNodeId(w)), 'selects', binding.ports.map((p) => `${p.port.port}/${p.port.protocol}`).join(', '));
  }
  for (const e of accessEdges(mesh)) {
    const line = e.route === 'tcp' ? `tcp:${e.port}` : `${e.multiPort ? `:${e.port} ` : ''}${e.route}${e.onlyAt ? ` (only at ${e.onlyAt.join(', ')})` : ''}`;
    pushLabel(edges, workloadId(e.from), serviceId(e.service), 'calls', line);
    const behind = e.onlyAt ?? (mesh.bindings.services.get(e.service)?.workloads ?? []).map(workloadNodeId);
    for (const w of behind) callable.add(w);
  }
  for (const split of splitViews(mesh).values()) {
    const total = split.backends.reduce((s, b) => s + b.weight, 0);
    for (const b of split.backends) pushLabel(edges, serviceId(split.apex), serviceId(b.service), 'splits', `weight ${b.weight}${total > 0 ? ` (${Math.round((b.weight * 1000) / total) / 10}%)` : ''}`);
  }
  const nodes: GraphNode[] = [
    ...mesh.proxies.map((p) => {
      const key = nodeId(p);
      return { id: workloadId(key), kind: 'workload' as const, namespace: p.namespace, name: p.workload, ...(callable.has(key) ? {} : { deniedByDefault: true }) };
    }),
    ...[...mesh.bindings.services.values()].map((b) => ({ id: serviceId(b.key), kind: 'service' as const, namespace: b.service.meta.namespace, name: b.service.meta.name })),
  ];
  let kept = [...edges.values()];
  let keptNodes = nodes;
  if (namespace !== undefined) {
    const inNs = new Set(nodes.filter((n) => n.namespace === namespace).map((n) => n.id));
    kept = kept.filter((e) => inNs.has(e.from) || inNs.has(e.to));
    const touched = new Set([...inNs, ...kept.flatMap((e) => [e.from, e.to])]);
    keptNodes = nodes.filter((n) => touched.has(n.id));
  }
  const edgeOrder = (a: GraphEdge, b: GraphEdge) => compareStrings(a.kind, b.kind) || compareStrings(a.from, b.from) || compareStrings(a.to, b.to);
  return { nodes: [...keptNodes].sort(byKey((n) => n.id)), edges: kept.sort(edgeOrder) };
}

// ── Mermaid ─────────────────────────────────────────────────────────────────

/** Mermaid's quoted labels: `"` and `#` are written as entities, line breaks as <br>. */
function mermaidText(lines: readonly string[]): string {
  return lines.map((l) => l.replaceAll('#', '#35;').replaceAll('"', '#quot;').replaceAll('<', '#lt;').replaceAll('>', '#gt;')).join('<br>');
}

function namespacesOf(g: MeshGraph): Map<string, GraphNode[]> {
  const byNs = new Map<string, GraphNode[]>();
  for (const n of g.nodes) byNs.set(n.namespace, [...(byNs.get(n.namespace) ?? []), n]);
  return new Map([...byNs].sort(([a], [b]) => compareStrings(a, b)));
}

export function toMermaid(g: MeshGraph): string {
  const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ['flowchart LR'];
  for (const [ns, nodes] of namespacesOf(g)) {
    lines.push(`  subgraph ns_${ids.get(nodes[0].id)}["namespace ${mermaidText([ns])}"]`);
    for (const n of nodes) {
      const label = mermaidText(n.kind === 'service' ? [`svc ${n.name}`] : n.deniedByDefault ? [n.name, 'nothing may call'] : [n.name]);
      lines.push(n.kind === 'service' ? `    ${ids.get(n.id)}(["${label}"])` : `    ${ids.get(n.id)}["${label}"]`);
    }
    lines.push('  end');
  }
  for (const e of g.edges) {
    const arrow = e.kind === 'selects' ? '-.->' : e.kind === 'splits' ? '==>' : '-->';
    lines.push(`  ${ids.get(e.from)} ${arrow}|"${mermaidText(e.label)}"| ${ids.get(e.to)}`);
  }
  const denied = g.nodes.filter((n) => n.deniedByDefault).map((n) => ids.get(n.id));
  if (denied.length > 0) lines.push('  classDef denied stroke:#c0392b,stroke-width:2px,stroke-dasharray:5 3', `  class ${denied.join(',')} denied`);
  return `${lines.join('\n')}\n`;
}

// ── DOT ─────────────────────────────────────────────────────────────────────

/** A DOT double-quoted string: `"` and `\` escaped, lines joined by `\l` (left-aligned) or `\n`. */
function dotString(lines: readonly string[], join = '\\n'): string {
  return `"${lines.map((l) => l.replaceAll('\\', '\\\\').replaceAll('"', '\\"')).join(join)}"`;
}

/**
 * Edge labels become real nodes in Graphviz's layout: past this many edges an SVG carries them as
 * tooltips instead. Measured on bench/generate-mesh.ts --services 250 (1362 edges): dot took over
 * 300 s with labels inline, 4.6 s without.
 */
export const SVG_INLINE_LABEL_EDGES = 200;

/** `labels: 'tooltip'` keeps each edge's label as its tooltip only (see SVG_INLINE_LABEL_EDGES). */
export function toDot(g: MeshGraph, labels: 'inline' | 'tooltip' = 'inline'): string {
  const lines = [
    'digraph mesh {',
    '  rankdir=LR;',
    '  graph [fontname="Helvetica", fontsize=11];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  let i = 0;
  for (const [ns, nodes] of namespacesOf(g)) {
    lines.push(`  subgraph cluster_${i++} {`, `    label=${dotString([`namespace ${ns}`])};`, '    style=rounded; color="#999999";');
    for (const n of nodes) {
      const attrs =
        n.kind === 'service'
          ? `shape=ellipse, label=${dotString([`svc ${n.name}`])}`
          : n.deniedByDefault
            ? `shape=box, style="rounded,dashed", color="#c0392b", label=${dotString([n.name, 'nothing may call'])}`
            : `shape=box, style=rounded, label=${dotString([n.name])}`;
      lines.push(`    ${dotString([n.id])} [${attrs}];`);
    }
    lines.push('  }');
  }
  for (const e of g.edges) {
    const style = e.kind === 'selects' ? 'style=dashed, color="#888888", arrowhead=none' : e.kind === 'splits' ? 'style=bold, color="#2471a3"' : 'color="#1e8449"';
    // `\l` ends each line left-aligned, the last one too.
    const label = labels === 'inline' ? `label=${dotString([...e.label, ''], '\\l')}` : `tooltip=${dotString(e.label, '&#10;')}`;
    lines.push(`  ${dotString([e.from])} -> ${dotString([e.to])} [${style}, ${label}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** SVG of the DOT, laid out by Graphviz (WebAssembly, loaded on first use): no browser, no native binary. */
export async function toSvg(g: MeshGraph): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.layout(toDot(g, g.edges.length > SVG_INLINE_LABEL_EDGES ? 'tooltip' : 'inline'), 'svg', 'dot');
}
