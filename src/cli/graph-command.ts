/**
 * `smi-compile graph <paths...> --format mermaid|dot|svg|json [--namespace NS]`: the mesh's
 * workloads, services, allowed calls and splits (src/review/graph.ts). Exit 0, 1 when the
 * manifests have errors, 2 on usage.
 */
import { compilePaths } from '../compiler/compile.ts';
import { meshGraph, toDot, toMermaid, toSvg } from '../review/graph.ts';
import { EXIT_FAILURE, EXIT_OK, type CliIO } from './io.ts';
import { plannedMeshOrReport } from './planned-mesh.ts';

export type GraphFormat = 'mermaid' | 'dot' | 'svg' | 'json';

export interface GraphCommandOptions {
  format: GraphFormat;
  namespace?: string;
  trustDomain?: string;
  maxFileSize?: number;
}

export async function runGraph(paths: string[], opts: GraphCommandOptions, io: CliIO): Promise<number> {
  const result = compilePaths(paths, { trustDomain: opts.trustDomain, maxFileSize: opts.maxFileSize, analyseOnly: true }, io.stdin);
  const mesh = plannedMeshOrReport(result, io, 'smi-compile graph: the manifests have errors; fix them first (smi-compile lint)');
  if (!mesh) return EXIT_FAILURE;
  const g = meshGraph(mesh, opts.namespace);
  const text = opts.format === 'json' ? `${JSON.stringify(g, null, 2)}\n` : opts.format === 'mermaid' ? toMermaid(g) : opts.format === 'dot' ? toDot(g) : await toSvg(g);
  io.stdout(text);
  return EXIT_OK;
}
