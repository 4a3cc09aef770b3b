/**
 * `smi-compile explain <paths...> --from <ns>/<workload> --to <service>.<ns>[:<port>]`: allowed
 * or denied, and why. Exit 0 when it answered either way, 1 when the manifests have errors or
 * name no such workload, service or port, 2 on usage.
 */
import { compilePaths } from '../compiler/compile.ts';
import { serviceDnsNames } from '../ir/names.ts';
import { explain, ExplainInputError, type ExplainQuery } from '../review/explain.ts';
import { formatExplanation } from '../review/format-explain.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIO } from './io.ts';
import { plannedMeshOrReport } from './planned-mesh.ts';

export interface ExplainCommandOptions {
  from: string;
  to: string;
  path: string;
  method: string;
  header: string[];
  output: 'text' | 'json';
  trustDomain?: string;
  maxFileSize?: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `--to bookstore.bookstore:14001`: the service as `<svc>.<ns>` or by its host name (`.svc`, the FQDN), then the port. */
export function parseTo(to: string): ExplainQuery['to'] {
  const m = /^(([^.:]+)\.([^.:]+)[^:]*)(?::(\d+))?$/.exec(to);
  const [host, service, namespace] = m ? [m[1], m[2], m[3]] : ['', '', ''];
  const hosts = [`${service}.${namespace}`, ...serviceDnsNames({ name: service, namespace })];
  if (!m || !hosts.includes(host) || !DNS_LABEL.test(service) || !DNS_LABEL.test(namespace)) throw new UsageError(`--to ${to}: expected <service>.<namespace>[:<port>]`);
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--to ${to}: port must be 1-65535`);
  return { service, namespace, ...(port !== undefined ? { port } : {}) };
}

export function parseQuery(opts: ExplainCommandOptions): ExplainQuery {
  const from = /^([^/]+)\/([^/]+)$/.exec(opts.from);
  if (!from) throw new UsageError(`--from ${opts.from}: expected <namespace>/<workload>`);
  const headers = opts.header.map((h): [string, string] => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header ${h}: expected <name>=<value>`);
    return [h.slice(0, eq), h.slice(eq + 1)];
  });
  if (!opts.path.startsWith('/')) throw new UsageError(`--path ${opts.path}: must start with /`);
  return { from: opts.from, to: parseTo(opts.to), method: opts.method.toUpperCase(), path: opts.path, headers };
}

export function runExplain(paths: string[], opts: ExplainCommandOptions, io: CliIO): number {
  const query = parseQuery(opts);
  const result = compilePaths(paths, { trustDomain: opts.trustDomain, maxFileSize: opts.maxFileSize, analyseOnly: true }, io.stdin);
  const mesh = plannedMeshOrReport(result, io, 'smi-compile explain: the manifests have errors; fix them first (smi-compile lint)');
  if (!mesh) return EXIT_FAILURE;
  try {
    const e = explain(mesh, query);
    io.stdout(opts.output === 'json' ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ExplainInputError)) throw err;
    io.stderr(`smi-compile explain: ${err.message}\n`);
    return EXIT_FAILURE;
  }
}
