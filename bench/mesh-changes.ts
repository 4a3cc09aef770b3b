/**
 * The changes the serve benchmarks make to the generated mesh, each one file written
 * (bench/serve-fanout.ts, bench/serve-peers.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';

export const WIDE_FILE = 'bench-wide.yaml';

export interface Wide {
  readonly destination: string;
  /** File text admitting one caller (A) and everyone (B). */
  readonly a: string;
  readonly b: string;
  /**
   * B, and one more source: a ServiceAccount no workload runs as. Only the destination's own
   * inbound policy names it: a change one proxy sees (or the destination's few, for a canary).
   */
  readonly one: string;
  /** The destination's EndpointSlice file, as generated and with one pod moved to another IP. */
  readonly endpoints: { readonly file: string; readonly original: string; readonly moved: string };
}

/** A TrafficTarget beside an existing one: same destination and rules, other sources. */
export function wideTarget(dir: string, files: readonly string[]): Wide {
  const serviceAccounts: { name: string; namespace: string }[] = [];
  let base: Record<string, any> | undefined;
  let baseFile = '';
  for (const file of files) {
    for (const doc of jsyaml.loadAll(readFileSync(join(dir, file), 'utf8')) as Record<string, any>[]) {
      if (doc?.kind === 'ServiceAccount') serviceAccounts.push({ name: doc.metadata.name, namespace: doc.metadata.namespace });
      // The first TrafficTarget that grants HTTP routes: an ordinary web service.
      if (!base && doc?.kind === 'TrafficTarget' && doc.spec.rules?.[0]?.kind === 'HTTPRouteGroup') {
        base = doc;
        baseFile = file;
      }
    }
  }
  if (!base) throw new Error('no TrafficTarget with HTTP rules in the generated mesh');
  const dest = base.spec.destination;
  // The generator names Service, ServiceAccount and Deployment alike: the destination's pods are
  // in the EndpointSlice labelled with its name, in the same file.
  const original = readFileSync(join(dir, baseFile), 'utf8');
  const docs = original.split(/^---$/m);
  const i = docs.findIndex((d) => /^kind: EndpointSlice$/m.test(d) && new RegExp(`^    kubernetes.io/service-name: ${dest.name}$`, 'm').test(d));
  if (i < 0) throw new Error(`no EndpointSlice for ${dest.name} in ${baseFile}`);
  docs[i] = docs[i].replace(/^(      - )10\.(\d+)\.(\d+)\.(\d+)$/m, (_, lead: string, _b: string, c: string, d: string) => `${lead}10.250.${c}.${d}`);
  const moved = docs.join('---');
  if (moved === original) throw new Error(`no pod address to move in the EndpointSlice of ${dest.name}`);
  const make = (sources: { name: string; namespace: string }[]): string =>
    jsyaml.dump({
      apiVersion: base!.apiVersion,
      kind: 'TrafficTarget',
      metadata: { name: 'bench-wide', namespace: base!.metadata.namespace },
      spec: {
        destination: dest,
        rules: base!.spec.rules,
        sources: sources.map((s) => ({ kind: 'ServiceAccount', name: s.name, namespace: s.namespace })),
      },
    });
  const others = serviceAccounts.filter((s) => !(s.name === dest.name && s.namespace === (dest.namespace ?? base!.metadata.namespace)));
  return {
    destination: `${dest.namespace ?? base.metadata.namespace}/${dest.name}`,
    a: make(others.slice(0, 1)),
    b: make(others),
    one: make([...others, { name: 'bench-ghost', namespace: others[0].namespace }]),
    endpoints: { file: baseFile, original, moved },
  };
}
