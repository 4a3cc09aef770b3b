/**
 * Real Envoys on `serve --ca`, dynamic: one Envoy per workload of the bookstore fixture, each
 * started from the `bootstrap.yaml` that `compile --ca --emit-secrets` wrote, unchanged, in its
 * own network namespace (netns.ts), connects to the server on 127.0.0.1 over mTLS and:
 *
 * - accepts every xDS type it uses (Envoy's /stats: update_rejected 0 and update_success ≥ 1 for
 *   LDS, RDS, CDS, EDS and SDS; no listener or cluster warming);
 * - holds exactly the listeners, route configurations, clusters and secrets the server holds for
 *   it, at the versions the server sent (/config_dump against the snapshot and /debug/streams);
 * - shows in its /config_dump the listeners, clusters and routes of compile's config_dump.json for
 *   the workload, at the same versions and with the same content (both through the protos), and
 *   what serve's /debug/config_dump shows for it;
 * - takes an edit under `--watch` (the TrafficSplit to 100/0) if its config changed, and no
 *   update of any kind if it did not.
 *
 * Waits poll Envoy's admin a bounded number of times; nothing asserts a duration. Needs root
 * (network namespaces) and Envoy; skipped without them, failed under CI=true.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { parse } from 'yaml';
import { compilePaths } from '../../src/compiler/compile.ts';
import { CONFIG_DUMP_FILE } from '../../src/compiler/config-dump.ts';
import { decodeToProtoJson, encodeProtoJson } from '../../src/envoy/protos.ts';
import { renderTree } from '../../src/compiler/output-tree.ts';
import { TYPE_URL, XDS_KINDS, type XdsKind } from '../../src/emit/types.ts';
import { BuiltinCa } from '../../src/identity/index.ts';
import { memoryLogger } from '../../src/serve/ops/logger.ts';
import { startServer, type ServerHandle } from '../../src/serve/server.ts';
import { runCli } from '../cli-harness.ts';
import { EnvoyPod, namespacePrefix, netnsUnavailable, removeStaleNamespaces, UnixToTcp } from './netns.ts';
import { envoy, envoyTest, poll as pollFor } from './support.ts';
import type { LooseJson as Json } from '../../src/shared/json.ts';

const unavailable = envoy ? netnsUnavailable() : undefined;
const POLLS = 600;
const POLL_MS = 50;

let dir = '';
let mesh = '';
let out = '';
let server: ServerHandle | undefined;
let relay: UnixToTcp | undefined;
const pods: EnvoyPod[] = [];
const logger = memoryLogger('info');

const poll = <T>(what: string, probe: () => Promise<T | string>): Promise<T> => pollFor(what, probe, POLLS, POLL_MS);

function names(file: string, key = 'name'): string[] {
  return (parse(readFileSync(file, 'utf8')) as Json[]).map((r) => String(r[key]));
}

/** What the pod's files say it subscribes to, per xDS type. */
function expected(pod: EnvoyPod): { lds: string[]; rds: string[]; cds: string[]; eds: string[]; sds: string[] } {
  const d = join(out, pod.name);
  const clusters = parse(readFileSync(join(d, 'clusters.yaml'), 'utf8')) as Json[];
  return {
    lds: names(join(d, 'listeners.yaml')),
    rds: names(join(d, 'routes.yaml')),
    cds: clusters.map((c) => c.name),
    eds: clusters.filter((c) => c.type === 'EDS').map((c) => c.name),
    sds: names(join(d, 'secrets.yaml')),
  };
}

const sdsStat = (name: string): string => `sds.${name.replaceAll(':', '_')}`;

/** The update counters of every xDS subscription of the pod, or why it is not fully accepted yet. */
function accepted(pod: EnvoyPod, stats: Map<string, number>): Map<string, number> | string {
  const e = expected(pod);
  const counters = new Map<string, number>();
  const need = (key: string, stat: string): string | undefined => {
    const ok = stats.get(`${stat}.update_success`) ?? 0;
    if ((stats.get(`${stat}.update_rejected`) ?? 0) > 0) return `${key} rejected`;
    if (ok < 1) return `${key} not accepted yet`;
    counters.set(key, ok);
    return undefined;
  };
  const rdsStat = (r: string): string => [...stats.keys()].find((k) => k.startsWith('http.') && k.endsWith(`.rds.${r}.update_success`))?.slice(0, -'.update_success'.length) ?? `http.?.rds.${r}`;
  const problems = [
    e.lds.length ? need('LDS', 'listener_manager.lds') : undefined,
    need('CDS', 'cluster_manager.cds'),
    ...e.rds.map((r) => need(`RDS ${r}`, rdsStat(r))),
    ...e.eds.map((c) => need(`EDS ${c}`, `cluster.${c}`)),
    ...e.sds.map((s) => need(`SDS ${s}`, sdsStat(s))),
  ].filter(Boolean);
  if (problems.length) return `${pod.name}: ${problems[0]}`;
  if (stats.get('listener_manager.total_listeners_warming') !== 0) return `${pod.name}: listeners warming`;
  if (stats.get('cluster_manager.warming_clusters') !== 0) return `${pod.name}: clusters warming`;
  if (stats.get('listener_manager.total_listeners_active') !== e.lds.length) return `${pod.name}: ${stats.get('listener_manager.total_listeners_active')} of ${e.lds.length} listeners active`;
  const rejected = [...stats].filter(([k, v]) => k.endsWith('.update_rejected') && v > 0);
  if (rejected.length) return `${pod.name}: ${rejected[0][0]} = ${rejected[0][1]}`;
  return counters;
}

async function acceptedCounters(pod: EnvoyPod): Promise<Map<string, number>> {
  return poll(`${pod.name} accepts every xDS type`, async () => {
    if (!pod.running) throw new Error(`${pod.name}: Envoy exited:\n${pod.envoyLog}`);
    const stats = await pod.stats();
    return stats ? accepted(pod, stats) : `${pod.name}: admin not answering`;
  });
}

/** name → version_info of each dynamic resource in Envoy's /config_dump, per kind. */
async function configDump(pod: EnvoyPod): Promise<Record<'listeners' | 'routes' | 'clusters' | 'secrets', Map<string, string>>> {
  const dump = JSON.parse((await pod.admin('/config_dump'))!) as { configs: Json[] };
  const of = (suffix: string): Json => dump.configs.find((c) => String(c['@type']).endsWith(`.${suffix}`)) ?? {};
  const map = (items: Json[] | undefined, name: (x: Json) => string): Map<string, string> => new Map((items ?? []).map((x) => [name(x), x.version_info ?? x.active_state?.version_info]));
  return {
    listeners: map(of('ListenersConfigDump').dynamic_listeners, (x) => x.name),
    routes: map(of('RoutesConfigDump').dynamic_route_configs, (x) => x.route_config.name),
    clusters: map(of('ClustersConfigDump').dynamic_active_clusters, (x) => x.cluster.name),
    secrets: map(of('SecretsConfigDump').dynamic_active_secrets, (x) => x.name),
  };
}

const SHORT: Record<XdsKind, string> = { listeners: 'LDS', routes: 'RDS', clusters: 'CDS', endpoints: 'EDS', secrets: 'SDS' };

async function streams(): Promise<Json[]> {
  return (await (await fetch(`http://127.0.0.1:${server!.adminPort}/debug/streams`)).json()) as Json[];
}

test.before(async () => {
  if (!envoy || unavailable) return;
  removeStaleNamespaces();
  dir = mkdtempSync(join(tmpdir(), 'smi-envoy-xds-'));
  const ca = join(dir, 'ca');
  await (await BuiltinCa.init(ca)).close();
  mesh = join(dir, 'mesh');
  cpSync('fixtures/bookstore', mesh, { recursive: true });
  server = await startServer({ paths: [mesh], port: 0, adminPort: 0, watch: true, logger, processMetrics: false, debugEndpoints: true, ca: { provider: 'builtin', dir: ca } });
  out = join(dir, 'out');
  // config-dump: the usual yaml files (the pods start from bootstrap.yaml) and config_dump.json.
  const r = await runCli([mesh, '--ca', ca, '--emit-secrets', '--xds-port', String(server.port), '--format', 'config-dump', '-o', out]);
  assert.is(r.code, 0, r.stderr);
  relay = await UnixToTcp.start(join(dir, 'xds.sock'), server.port);
  const dirs = (d: string): string[] => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const workloads = dirs(out).flatMap((ns) => dirs(join(out, ns)).map((w) => `${ns}/${w}`)); // the tree's manifest sits beside the namespaces
  for (const [i, name] of workloads.entries()) {
    const podDir = join(dir, 'pods', String(i));
    mkdirSync(podDir, { recursive: true });
    pods.push(
      await EnvoyPod.start({ name, netns: `${namespacePrefix()}${i}`, dir: podDir, envoyBin: envoy, bootstrap: join(out, name, 'bootstrap.yaml'), xdsPort: server.port, xdsSocket: join(dir, 'xds.sock') }),
    );
  }
});

test.after(async () => {
  await Promise.all(pods.map((p) => p.stop()));
  await relay?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

envoyTest(
  'one Envoy per bookstore workload, from the bootstrap.yaml compile --ca wrote, accepts LDS, RDS, CDS, EDS and SDS from serve --ca over mTLS',
  async () => {
    assert.is(pods.length, 6);
    for (const pod of pods) {
      const counters = await acceptedCounters(pod);
      const e = expected(pod);
      assert.ok(counters.size >= 2 + e.rds.length + e.eds.length + e.sds.length - (e.lds.length ? 0 : 1), pod.name);
      const stats = (await pod.stats())!;
      assert.is(stats.get('control_plane.connected_state'), 1, `${pod.name} connected`);
    }
    const byNode = new Map((await streams()).map((s) => [s.node, s]));
    for (const pod of pods) {
      const s = byNode.get(pod.name);
      assert.ok(s, `${pod.name} has a stream`);
      for (const [type, t] of Object.entries(s!.types as Record<string, Json>)) assert.is(t.nacks, 0, `${pod.name} ${type}`);
    }
    assert.not.ok(logger.records.some((r) => r.code === 'SMI6008'), 'every Envoy asked as the workload its certificate proves');
  },
  unavailable,
);

envoyTest(
  "each Envoy's /config_dump holds exactly the listeners, routes, clusters and secrets served to it, at the versions sent",
  async () => {
    const byNode = new Map((await streams()).map((s) => [s.node, s]));
    for (const pod of pods) {
      const dump = await configDump(pod);
      const served = server!.snapshot()!.proxies.get(pod.name)!;
      const stream = byNode.get(pod.name)!;
      for (const kind of ['listeners', 'routes', 'clusters', 'secrets'] as const) {
        const want = [...(served.resources.get(TYPE_URL[kind])?.keys() ?? [])].sort();
        assert.equal([...dump[kind].keys()].sort(), want, `${pod.name} ${kind}`);
        if (kind === 'secrets') continue; // SDS versions are per secret (certificate serials), checked through the stream below
        const acked = stream.types[SHORT[kind]]?.acked;
        for (const [name, version] of dump[kind]) assert.is(version, acked, `${pod.name} ${kind} ${name}: the version the server sent`);
      }
    }
  },
  unavailable,
);

/** The dynamic listeners, clusters and route configurations of a config dump: name → [version, resource]. */
function dynamicResources(dump: { configs: Json[] }): Record<'listeners' | 'clusters' | 'routes', Map<string, [string, Json]>> {
  const of = (suffix: string): Json => dump.configs.find((c) => String(c['@type']).endsWith(`.${suffix}`)) ?? {};
  const map = <T extends Json>(items: T[] | undefined, f: (x: T) => [string, string, Json]) => new Map((items ?? []).map((x) => { const [n, v, r] = f(x); return [n, [v, r]] as [string, [string, Json]]; }));
  return {
    listeners: map(of('ListenersConfigDump').dynamic_listeners, (x) => [x.name, x.active_state.version_info, x.active_state.listener]),
    clusters: map(of('ClustersConfigDump').dynamic_active_clusters, (x) => [x.cluster.name, x.version_info, x.cluster]),
    routes: map(of('RoutesConfigDump').dynamic_route_configs, (x) => [x.route_config.name, x.version_info, x.route_config]),
  };
}

/** A resource through the protos: Envoy prints defaults its own way (omitted, durations, enums); both sides come out the same. */
const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const normalised = (kind: 'listeners' | 'clusters' | 'routes', json: Json): unknown => decodeToProtoJson(TYPE_URL[kind], encodeProtoJson(TYPE_URL[kind], json));

envoyTest(
  "a real Envoy's /config_dump holds the listeners, clusters and routes of compile's config_dump.json for its workload (names, versions, content) and of serve's /debug/config_dump",
  async () => {
    let compared = 0;
    for (const pod of pods) {
      await acceptedCounters(pod);
      const realDump = JSON.parse((await pod.admin('/config_dump'))!) as { configs: Json[] };
      const compiledDump = JSON.parse(readFileSync(join(out, pod.name, CONFIG_DUMP_FILE), 'utf8')) as { configs: Json[] };
      // The bootstrap's static part as Envoy shows it, the xDS client key redacted the same way ("[redacted]").
      const staticPart = (d: { configs: Json[] }): unknown => decodeToProtoJson(BOOTSTRAP, encodeProtoJson(BOOTSTRAP, { static_resources: d.configs[0].bootstrap.static_resources }));
      assert.equal(staticPart(realDump), staticPart(compiledDump), `${pod.name} bootstrap static_resources`);
      assert.match(JSON.stringify(compiledDump.configs[0]), '"private_key":{"filename":"[redacted]"}');
      const real = dynamicResources(realDump);
      const compiled = dynamicResources(compiledDump);
      const res = await fetch(`http://127.0.0.1:${server!.adminPort}/debug/config_dump?node=${pod.name}`);
      assert.is(res.status, 200, pod.name);
      const served = dynamicResources((await res.json()) as { configs: Json[] });
      for (const kind of ['listeners', 'clusters', 'routes'] as const) {
        const where = `${pod.name} ${kind}`;
        assert.equal([...real[kind].keys()].sort(), [...compiled[kind].keys()].sort(), `${where}: names`);
        assert.equal([...served[kind].keys()].sort(), [...compiled[kind].keys()].sort(), `${where}: names (serve)`);
        for (const [name, [version, resource]] of real[kind]) {
          const [cVersion, cResource] = compiled[kind].get(name)!;
          assert.is(version, cVersion, `${where} ${name}: version`);
          assert.is(served[kind].get(name)![0], version, `${where} ${name}: version (serve)`);
          assert.equal(normalised(kind, resource), normalised(kind, cResource), `${where} ${name}: content`);
          compared++;
        }
      }
    }
    assert.ok(compared >= 3 * pods.length, `${compared} resources compared`);
    console.log(`  (${compared} listeners, clusters and routes of ${pods.length} Envoys equal to compile's config_dump.json)`);
  },
  unavailable,
);

envoyTest(
  'an edit under --watch (the bookstore split to 100/0) is accepted by every Envoy whose config changed, and reaches no other',
  async () => {
    const tree = (): Map<string, string> => renderTree(compilePaths([mesh]).proxies, 'yaml') as Map<string, string>;
    const before = tree();
    const counters = new Map<string, Map<string, number>>();
    for (const pod of pods) counters.set(pod.name, await acceptedCounters(pod));
    const sentBefore = new Map((await streams()).map((s) => [s.node, Object.fromEntries(Object.entries(s.types as Record<string, Json>).map(([t, v]) => [t, v.sent]))]));

    const split = join(mesh, 'traffic-split-50-50.yaml');
    writeFileSync(split, readFileSync(split, 'utf8').replace(/weight: 50(\s+- service: bookstore-v2[^\n]*\n\s+)weight: 50/, 'weight: 100$1weight: 0'));
    const after = tree();
    const changed = new Set([...after].filter(([f, c]) => before.get(f) !== c).map(([f]) => f.split('/').slice(0, 2).join('/')));
    const affected = pods.filter((p) => changed.has(p.name));
    assert.ok(affected.length > 0 && affected.length < pods.length, `affected: ${[...changed].join(', ')}`);

    for (const pod of affected) {
      const kinds = XDS_KINDS.filter((k) => before.get(`${pod.name}/${k}.yaml`) !== after.get(`${pod.name}/${k}.yaml`));
      await poll(`${pod.name} accepts the edit (${kinds.join(', ')})`, async () => {
        const now = await acceptedCounters(pod);
        const old = counters.get(pod.name)!;
        const grew = [...now].filter(([k, v]) => v > (old.get(k) ?? 0)).map(([k]) => k.split(' ')[0]);
        return kinds.every((k) => grew.includes(SHORT[k])) ? now : `${pod.name}: ${kinds.map((k) => SHORT[k]).filter((k) => !grew.includes(k)).join(', ')} not updated yet`;
      });
      const dump = await configDump(pod);
      const route = parse(after.get(`${pod.name}/routes.yaml`)!) as Json[];
      assert.ok(route.length > 0 && dump.routes.size === route.length, pod.name);
    }
    // Every stream has the new snapshot's versions by now (the push went out at once); the
    // unaffected Envoys were sent nothing new and counted no update of any kind.
    const sentAfter = new Map((await streams()).map((s) => [s.node, Object.fromEntries(Object.entries(s.types as Record<string, Json>).map(([t, v]) => [t, v.sent]))]));
    for (const pod of pods.filter((p) => !changed.has(p.name))) {
      assert.equal(sentAfter.get(pod.name), sentBefore.get(pod.name), `${pod.name}: nothing new sent`);
      const now = await acceptedCounters(pod);
      assert.equal(Object.fromEntries(now), Object.fromEntries(counters.get(pod.name)!), `${pod.name}: no update accepted`);
    }
    console.log(`  (the edit reached ${affected.map((p) => p.name).join(', ')}; not ${pods.filter((p) => !changed.has(p.name)).map((p) => p.name).join(', ')})`);
  },
  unavailable,
);

test.run();
