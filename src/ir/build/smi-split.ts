/**
 * TrafficSplit (split.smi-spec.io v1alpha1..v1alpha4) → IR.
 *
 * v1alpha1 weights are Kubernetes quantities (`500m`, `1`, `0.5`); they become integers in
 * milli-units (`500m` → 500, `1` → 1000) so that relative shares survive exactly. Later
 * versions take integer weights as they are. Only v1alpha3+ have `matches`.
 */
import type { ManifestDocument } from '../../parser/parse.ts';
import type { SplitBackend, TrafficSplit } from '../types.ts';
import { base, versionOf } from './common.ts';

interface RawSplitSpec {
  service: string;
  backends?: { service: string; weight: number | string }[];
  matches?: { kind: string; name: string }[];
}

export function buildTrafficSplit(doc: ManifestDocument): TrafficSplit {
  const spec = (doc.value.spec ?? {}) as Partial<RawSplitSpec>;
  const quantities = versionOf(doc) === 'v1alpha1';
  const backends: SplitBackend[] = (spec.backends ?? []).map((b, i) => ({
    service: b.service,
    weight: quantities ? milliUnits(b.weight) : Number(b.weight),
    path: ['spec', 'backends', i],
  }));
  return {
    ...base(doc, 'TrafficSplit'),
    service: spec.service ?? '',
    backends,
    matches: (spec.matches ?? []).map((m, i) => ({ kind: m.kind, name: m.name, path: ['spec', 'matches', i] })),
  };
}

/** Decimal SI suffixes of resource.Quantity, as powers of ten. */
const SUFFIX_EXPONENT: Readonly<Record<string, number>> = { m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * A quantity (`500m`, `1`, `1.5`, `2e3`, or a plain number) in milli-units, rounded to an
 * integer. The parser's schema has already checked the syntax.
 */
export function milliUnits(quantity: number | string): number {
  if (typeof quantity === 'number') return Math.round(quantity * 1000);
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([mkMGTPE]?)|[eE]([+-]?\d+))$/.exec(quantity.trim());
  if (!m) return Number.NaN;
  const exponent = m[3] !== undefined ? Number(m[3]) : SUFFIX_EXPONENT[m[2] ?? ''];
  return Math.round(Number(m[1]) * 10 ** (exponent + 3));
}
