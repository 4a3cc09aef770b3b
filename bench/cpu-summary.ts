/**
 * Where a CPU profile's time went: self time by owner (our sources, each dependency, Node's
 * internals, GC, idle) and the functions with the most self and total time. Reads the
 * `.cpuprofile` files `--cpu-prof` or serve-fanout's `--cpu-prof-changes` write.
 *
 *   npx tsx bench/cpu-summary.ts FILE... [--top 25] [--under FUNCTION] [--json]
 *
 * `--under desired` keeps only the samples taken inside a function so named (its label starts
 * with it: `desired`, or `desired src/serve/stream-core.ts`): what that function's time is made of.
 * Several files are summed (the same change measured more than once). Total time counts a
 * function once per sample however deep its recursion.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface CpuSummary {
  readonly wallMs: number;
  readonly sampledMs: number;
  readonly byOwner: { owner: string; ms: number }[];
  readonly topSelf: { fn: string; ms: number }[];
  readonly topTotal: { fn: string; ms: number }[];
}

/** Who a frame belongs to: `ours`, a package name, `node` (its internals), or V8's own entries. */
export function ownerOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node';
  if (/\/src\//.test(url)) return 'ours';
  if (/\/bench\//.test(url)) return 'bench';
  return 'other';
}

const label = (f: CallFrame): string => {
  const file = f.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/').replace(/^file:\/\//, '');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
};

export function summarise(profiles: readonly CpuProfile[], top = 25, under?: string): CpuSummary {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const owners = new Map<string, number>();
  let wall = 0;
  let sampled = 0;
  for (const p of profiles) {
    wall += (p.endTime - p.startTime) / 1000;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (let i = 0; i < p.samples.length; i++) {
      // A sample's delta is the time since the previous one: charge it to this sample.
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      const leaf = byId.get(p.samples[i]);
      if (!leaf) continue;
      if (under !== undefined && !hasAncestor(leaf.id, byId, parent, under)) continue;
      sampled += ms;
      const fn = label(leaf.callFrame);
      self.set(fn, (self.get(fn) ?? 0) + ms);
      const owner = ownerOf(leaf.callFrame);
      owners.set(owner, (owners.get(owner) ?? 0) + ms);
      const seen = new Set<string>();
      for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
        const f = label(byId.get(id)!.callFrame);
        if (seen.has(f)) continue;
        seen.add(f);
        total.set(f, (total.get(f) ?? 0) + ms);
      }
    }
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return {
    wallMs: wall,
    sampledMs: sampled,
    byOwner: sorted(owners).map(([owner, ms]) => ({ owner, ms })),
    topSelf: sorted(self).slice(0, top).map(([fn, ms]) => ({ fn, ms })),
    topTotal: sorted(total)
      .filter(([fn]) => !fn.startsWith('(root)'))
      .slice(0, top)
      .map(([fn, ms]) => ({ fn, ms })),
  };
}

function hasAncestor(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>, prefix: string): boolean {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (label(byId.get(at)!.callFrame).startsWith(prefix)) return true;
  return false;
}

function main(argv: string[]): void {
  const files: string[] = [];
  let top = 25;
  let json = false;
  let under: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]) || top;
    else if (argv[i] === '--json') json = true;
    else if (argv[i] === '--under') under = argv[++i];
    else files.push(argv[i]);
  }
  if (files.length === 0) {
    console.error('usage: npx tsx bench/cpu-summary.ts FILE.cpuprofile... [--top 25] [--json]');
    process.exit(2);
  }
  const s = summarise(
    files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile),
    top,
    under,
  );
  if (json) {
    console.log(JSON.stringify(s, null, 2));
    return;
  }
  const pct = (ms: number): string => `${((100 * ms) / s.sampledMs).toFixed(1).padStart(5)} %`;
  const row = (ms: number, what: string): string => `${ms.toFixed(0).padStart(8)} ms ${pct(ms)}  ${what}`;
  console.log(`${files.length} profile(s): ${s.wallMs.toFixed(0)} ms profiled, ${s.sampledMs.toFixed(0)} ms sampled${under ? ` under ${under}` : ''}\n\nself time by owner:`);
  for (const o of s.byOwner) console.log(row(o.ms, o.owner));
  console.log('\nself time, top functions:');
  for (const f of s.topSelf) console.log(row(f.ms, f.fn));
  console.log('\ntotal time (self and callees), top functions:');
  for (const f of s.topTotal) console.log(row(f.ms, f.fn));
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
