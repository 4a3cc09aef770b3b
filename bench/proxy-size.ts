/**
 * Size per proxy, the way Istio's benchmarks report it: for every proxy (workload) of the
 * synthetic mesh, the number of resources and their size on the wire per xDS type, as
 * min / median / p90 / max over all proxies.
 *
 *   npx tsx bench/proxy-size.ts [--services 1000] [--modes restrictive,permissive] [--json]
 *
 * Each resource is encoded with the real Envoy protos (src/envoy/protos.ts
 * `encodeProtoJson`); "kB" is the sum of the encoded messages (1 kB = 1000 bytes), i.e. the
 * payload of the DiscoveryResponse without the Any wrapper (+ ~60 bytes per resource for the
 * type URL). "shared" says how much of the total is the same bytes sent to several proxies:
 * distinct encodings (by SHA-1) against all encodings, which is what a server can share.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { encodeProtoJson } from '../src/envoy/protos.ts';
import { loadCompiler } from './compile.ts';
import { generateMesh } from './generate-mesh.ts';

type Mode = 'restrictive' | 'permissive';
const KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;
const SHORT: Record<(typeof KINDS)[number], string> = { listeners: 'LDS', routes: 'RDS', clusters: 'CDS', endpoints: 'EDS', secrets: 'SDS' };

export interface Distribution {
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

/** Nearest-rank percentiles over the values (sorted copy). */
export function distribution(values: readonly number[]): Distribution {
  if (!values.length) return { min: 0, median: 0, p90: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { min: s[0], median: rank(0.5), p90: rank(0.9), max: s[s.length - 1] };
}

export interface SizeReport {
  readonly services: number;
  readonly mode: Mode;
  readonly proxies: number;
  /** Per xDS type and 'total': resources per proxy, and bytes per proxy. */
  readonly perType: Record<string, { readonly count: Distribution; readonly bytes: Distribution }>;
  /** Over all proxies: encoded bytes, and bytes of distinct encodings. */
  readonly allBytes: number;
  readonly distinctBytes: number;
  readonly allResources: number;
  readonly distinctResources: number;
  /** Per xDS type over all proxies: resources and bytes sent, and how many of them are distinct. */
  readonly sharing: Record<string, { readonly all: number; readonly distinct: number; readonly allBytes: number; readonly distinctBytes: number }>;
  readonly compileMs: number;
  readonly encodeMs: number;
}

export async function measure(services: number, mode: Mode): Promise<SizeReport> {
  const api = await loadCompiler();
  const mesh = generateMesh({ services, permissive: mode === 'permissive' });
  const t0 = performance.now();
  const result = api.compile(mesh.files, { protoCheck: false });
  const compileMs = performance.now() - t0;
  const errors = result.diagnostics.filter((d) => d.level === 'error');
  if (errors.length) throw new Error(`${errors.length} compile errors, first: ${errors[0].code} ${errors[0].message}`);

  // Resources shared between proxies by reference are encoded once.
  const byObject = new WeakMap<object, { bytes: number; hash: string }>();
  const distinct = new Map<string, number>();
  const sharing: Record<string, { all: number; distinct: number; allBytes: number; distinctBytes: number }> = {};
  const seenByKind = new Map<string, Set<string>>();
  for (const k of KINDS) {
    sharing[k] = { all: 0, distinct: 0, allBytes: 0, distinctBytes: 0 };
    seenByKind.set(k, new Set());
  }
  let allBytes = 0;
  let allResources = 0;
  const t1 = performance.now();
  const perProxy: Record<string, { count: number[]; bytes: number[] }> = {};
  for (const k of [...KINDS, 'total']) perProxy[k] = { count: [], bytes: [] };
  for (const proxy of result.proxies) {
    let totalCount = 0;
    let totalBytes = 0;
    for (const kind of KINDS) {
      const list = (proxy.resources[kind] ?? []) as readonly Record<string, unknown>[];
      let bytes = 0;
      for (const r of list) {
        let e = byObject.get(r);
        if (!e) {
          const wire = encodeProtoJson(String(r['@type']), r);
          e = { bytes: wire.length, hash: createHash('sha1').update(wire).digest('base64') };
          byObject.set(r, e);
        }
        distinct.set(e.hash, e.bytes);
        bytes += e.bytes;
        const share = sharing[kind];
        share.all++;
        share.allBytes += e.bytes;
        const seen = seenByKind.get(kind)!;
        if (!seen.has(e.hash)) {
          seen.add(e.hash);
          share.distinct++;
          share.distinctBytes += e.bytes;
        }
      }
      perProxy[kind].count.push(list.length);
      perProxy[kind].bytes.push(bytes);
      totalCount += list.length;
      totalBytes += bytes;
    }
    perProxy.total.count.push(totalCount);
    perProxy.total.bytes.push(totalBytes);
    allBytes += totalBytes;
    allResources += totalCount;
  }
  const encodeMs = performance.now() - t1;
  const perType: SizeReport['perType'] = {};
  for (const [k, v] of Object.entries(perProxy)) perType[k] = { count: distribution(v.count), bytes: distribution(v.bytes) };
  let distinctBytes = 0;
  for (const b of distinct.values()) distinctBytes += b;
  return {
    services,
    mode,
    proxies: result.proxies.length,
    perType,
    allBytes,
    distinctBytes,
    allResources,
    distinctResources: distinct.size,
    sharing,
    compileMs,
    encodeMs,
  };
}

function kB(bytes: number): string {
  return (bytes / 1000).toFixed(bytes < 10_000 ? 2 : 1);
}

export function formatReport(r: SizeReport): string {
  const rows: string[][] = [['type', 'count min', 'median', 'p90', 'max', 'kB min', 'median', 'p90', 'max']];
  for (const k of [...KINDS, 'total'] as const) {
    const t = r.perType[k];
    const name = k === 'total' ? 'total' : `${SHORT[k]} (${k})`;
    rows.push([name, ...[t.count.min, t.count.median, t.count.p90, t.count.max].map(String), ...[t.bytes.min, t.bytes.median, t.bytes.p90, t.bytes.max].map(kB)]);
  }
  const body = align(rows);
  const shareRows: string[][] = [['type', 'sent', 'distinct', 'MB sent', 'MB distinct']];
  for (const k of KINDS) {
    const t = r.sharing[k];
    shareRows.push([`${SHORT[k]} (${k})`, String(t.all), String(t.distinct), (t.allBytes / 1e6).toFixed(1), (t.distinctBytes / 1e6).toFixed(1)]);
  }
  return [
    `${r.services} services, ${r.mode}: ${r.proxies} proxies, per proxy:`,
    body,
    `all proxies: ${r.allResources} resources, ${(r.allBytes / 1e6).toFixed(1)} MB encoded; distinct: ${r.distinctResources} resources, ${(r.distinctBytes / 1e6).toFixed(1)} MB` +
      ` (${((1 - r.distinctBytes / Math.max(1, r.allBytes)) * 100).toFixed(0)}% of the bytes are repeats a server can share)`,
    'over all proxies, by type (distinct = different encodings):',
    align(shareRows),
    `(compile ${Math.round(r.compileMs)} ms without proto check, encode ${Math.round(r.encodeMs)} ms)`,
  ].join('\n');
}

function align(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

async function main(argv: string[]): Promise<void> {
  let services = 1000;
  let modes: Mode[] = ['restrictive', 'permissive'];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--services') services = Number(argv[++i]);
    else if (/^\d+$/.test(a)) services = Number(a);
    else if (a === '--modes') modes = argv[++i].split(',') as Mode[];
    else if (a === '--json') json = true;
    else {
      console.error('usage: npx tsx bench/proxy-size.ts [--services 1000] [--modes restrictive,permissive] [--json]');
      process.exit(2);
    }
  }
  const reports: SizeReport[] = [];
  for (const mode of modes) {
    const r = await measure(services, mode);
    reports.push(r);
    if (!json) console.log(`${formatReport(r)}\n`);
  }
  if (json) console.log(JSON.stringify({ node: process.version, reports }, null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
