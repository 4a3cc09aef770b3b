/**
 * Endpoint churn through `serve --kubernetes`'s path: the generated mesh as API objects (what
 * the informers hand over), one EndpointSlice replaced per recompile, as a pod coming or going
 * does. Prints what a recompile costs and what it changes: proxies whose resources changed, and
 * which resource types. `node --import tsx bench/kube-endpoint-churn.ts [services] [changes] [rate]`:
 * with a rate (changes a second), the changes arrive on a timer and recompiles follow them
 * debounced as the Kubernetes source debounces (25 ms), as they would from a busy cluster.
 */
import { parseAllDocuments } from 'yaml';
import type { SourceObject } from '../src/parser/source.ts';
import { silentLogger, startServer, type ObjectSource } from '../src/serve/index.ts';
import { generateMesh } from './generate-mesh.ts';

const services = Number(process.argv[2] ?? 1000);
const changes = Number(process.argv[3] ?? 100);
const rate = process.argv[4] ? Number(process.argv[4]) : undefined;
const objects: SourceObject[] = [];
for (const f of generateMesh({ services, permissive: false }).files) {
  for (const d of parseAllDocuments(f.text)) {
    const value = d.toJS();
    if (!value) continue;
    const ns = value.metadata?.namespace;
    objects.push({ ref: `${value.kind} ${ns ? `${ns}/` : ''}${value.metadata.name}`, value });
  }
}
const slices = objects.map((o, i) => [o, i] as const).filter(([o]) => o.value.kind === 'EndpointSlice').map(([, i]) => i);
const source: ObjectSource = { objects: () => objects, onChange: () => {}, close: async () => {} };
const server = await startServer({ paths: [], port: 0, adminPort: 0, objects: source, logger: silentLogger, processMetrics: false });
if (rate) {
  // Changes on the clock, as a busy cluster makes them whether or not the server keeps up: a
  // tick that comes late (a recompile held the thread) makes every change due by then.
  // Recompiles are debounced as KubernetesSource.changed() debounces them (quiet for 25 ms, or
  // 50 ms after the first pending change); every change made before a recompile starts is
  // served when it ends.
  let timer: NodeJS.Timeout | undefined;
  let recompiles = 0;
  let busy = 0;
  const made: number[] = [];
  const served: number[] = [];
  const recompileMs: number[] = [];
  let pushedOther = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const changeOne = (n: number) => {
    const i = slices[(n * 7919) % slices.length];
    const v = structuredClone(objects[i].value) as any;
    v.endpoints = [...v.endpoints, { addresses: [`10.250.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true } }];
    objects[i] = { ...objects[i], value: v };
    made.push(performance.now());
  };
  await new Promise<void>((done) => {
    let n = 0;
    let pendingSince: number | undefined;
    let running = false;
    const run = async () => {
      if (running) return void (timer = setTimeout(run, 1));
      running = true;
      pendingSince = undefined;
      const s = performance.now();
      const upTo = made.length;
      const before = server.snapshot()!;
      const outcome = await server.recompile();
      const e = performance.now();
      busy += e - s;
      recompileMs.push(e - s);
      recompiles += 1;
      for (let k = served.length; k < upTo; k++) served.push(e);
      const after = server.snapshot()!;
      for (const id of outcome.changed) {
        for (const [type, named] of after.proxies.get(id)!.resources) {
          if (type.endsWith('ClusterLoadAssignment')) continue;
          const old = before.proxies.get(id)?.resources.get(type);
          for (const [name, r] of named) if (old?.get(name)?.version !== r.version) pushedOther += 1;
        }
      }
      running = false;
      if (served.length >= changes) done();
    };
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.min(changes, Math.floor(((now - t0) * rate) / 1000) + 1);
      if (n >= due) return;
      while (n < due) changeOne(n++);
      pendingSince ??= now;
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, Math.max(0, Math.min(now + 25, pendingSince + 50) - now));
      if (n >= changes) clearInterval(tick);
    }, 1000 / rate);
  });
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const lag = served.map((t, k) => t - made[k]).sort((a, b) => a - b);
  const at = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(0);
  recompileMs.sort((a, b) => a - b);
  console.log(
    `${services} services, ${changes} EndpointSlice changes offered at ${rate}/s: made over ${((made.at(-1)! - t0) / 1000).toFixed(1)} s, all served after ${(wall / 1000).toFixed(1)} s ` +
      `(${(changes / (wall / 1000)).toFixed(0)} changes/s sustained); ${recompiles} recompiles, median ${at(recompileMs, 0.5)} ms, p90 ${at(recompileMs, 0.9)} ms; ` +
      `recompiling ${((busy / wall) * 100).toFixed(0)}% of the time, CPU ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0)}% of a core, ${((cpu.user + cpu.system) / 1000 / changes).toFixed(1)} ms a change; ` +
      `change made → served: median ${at(lag, 0.5)} ms, p90 ${at(lag, 0.9)} ms, max ${at(lag, 1)} ms; resources other than ClusterLoadAssignments changed: ${pushedOther}`,
  );
  await server.close();
  process.exit(0);
}
const ms: number[] = [];
const phases = new Map<string, number[]>();
let proxies = 0;
const types = new Map<string, number>();
for (let n = 0; n < changes; n++) {
  const i = slices[(n * 7919) % slices.length];
  const v = structuredClone(objects[i].value) as any;
  v.endpoints = [...v.endpoints, { addresses: [`10.250.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true } }];
  objects[i] = { ...objects[i], value: v };
  const before = server.snapshot()!;
  const t0 = performance.now();
  const outcome = await server.recompile();
  ms.push(performance.now() - t0);
  for (const [k, v] of Object.entries({ ...outcome.timings.phases, snapshot: outcome.timings.snapshot, diff: outcome.timings.diff })) phases.set(k, [...(phases.get(k) ?? []), v ?? 0]);
  proxies += outcome.changed.length;
  const after = server.snapshot()!;
  for (const id of outcome.changed) {
    for (const [type, named] of after.proxies.get(id)!.resources) {
      const old = before.proxies.get(id)?.resources.get(type);
      for (const [name, r] of named) if (old?.get(name)?.version !== r.version) types.set(type.split('.').pop()!, (types.get(type.split('.').pop()!) ?? 0) + 1);
    }
  }
}
await server.close();
ms.sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
console.log(`${services} services, ${objects.length} objects, ${changes} EndpointSlice changes, one per recompile`);
console.log(`recompile (compile + snapshot + diff): median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1);
console.log(`median by phase (ms): ${[...phases].map(([k, v]) => `${k} ${median(v)}`).join(', ')}`);
console.log(`proxies changed per change: ${(proxies / changes).toFixed(1)}; resources changed by type: ${JSON.stringify(Object.fromEntries(types))}`);
