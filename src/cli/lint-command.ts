/**
 * `smi-compile lint <paths...>`: every diagnostic the compiler finds, without emitting Envoy
 * config, in the format CI wants, with suppressions and a failure threshold.
 */
import { compilePaths } from '../compiler/compile.ts';
import type { ResourceRef } from '../diagnostics/diagnostic.ts';
import type { Mesh, Resource } from '../ir/types.ts';
import { lintReport, type LintFormat } from '../lint/index.ts';
import { SuppressSpecError } from '../lint/suppress.ts';
import { parseFailOn } from '../lint/threshold.ts';
import { UsageError, type CliIO } from './io.ts';
import { recordPhase, recordPhases } from './profile.ts';

export interface LintCommandOptions {
  output: LintFormat;
  failOn: string;
  suppress: string[];
  trustDomain?: string;
  maxFileSize?: number;
}

function refKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** Annotations of every resource in the mesh, for `smi-compile.io/suppress`. */
function annotationIndex(mesh: Mesh | undefined): (ref: ResourceRef) => Readonly<Record<string, string>> | undefined {
  const index = new Map<string, Readonly<Record<string, string>>>();
  if (mesh) {
    const all: readonly (readonly Resource[])[] = [
      mesh.namespaces, mesh.serviceAccounts, mesh.services, mesh.workloads, mesh.endpointSets, mesh.trafficTargets,
      mesh.httpRouteGroups, mesh.tcpRoutes, mesh.udpRoutes, mesh.trafficSplits, mesh.meshConfigs,
    ];
    for (const list of all) for (const r of list) index.set(refKey(r.kind, r.meta.namespace || undefined, r.meta.name), r.meta.annotations);
  }
  return (ref) => index.get(refKey(ref.kind, ref.namespace, ref.name));
}

export function runLint(paths: string[], opts: LintCommandOptions, io: CliIO): number {
  let failOn;
  try {
    failOn = parseFailOn(opts.failOn);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const result = compilePaths(paths, { trustDomain: opts.trustDomain, maxFileSize: opts.maxFileSize, analyseOnly: true }, io.stdin);
  recordPhases(result.timings);
  const r0 = performance.now();
  try {
    const report = lintReport(result.diagnostics, {
      format: opts.output,
      failOn,
      suppress: opts.suppress,
      annotationsOf: annotationIndex(result.mesh),
      stream: { isTTY: io.isTTY },
      env: io.env,
      cwd: io.cwd,
    });
    io.stdout(report.text);
    recordPhase('report', performance.now() - r0);
    return report.exitCode;
  } catch (err) {
    if (err instanceof SuppressSpecError) throw new UsageError(err.message);
    throw err;
  }
}
