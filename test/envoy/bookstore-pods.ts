/**
 * The bookstore fixture as pods with real Envoy sidecars (sidecar-traffic.test.ts describes the
 * setup): each workload a network namespace on a private subnet with its app (pod-app.mjs) and its
 * Envoy, started from `compile --ca --emit-secrets`'s bootstrap, OSM's iptables rules, mTLS with
 * certificates over SDS from an in-process `serve --ca --watch`. Shared by the tests that send
 * traffic through them; `stop()` removes everything `start` made.
 */
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { parseAllDocuments, stringify } from 'yaml';
import { BuiltinCa } from '../../src/identity/index.ts';
import { memoryLogger } from '../../src/serve/ops/logger.ts';
import { startServer, type ServerHandle } from '../../src/serve/server.ts';
import { runCli } from '../cli-harness.ts';
import { EnvoyPod, iptablesUnavailable, namespacePrefix, netnsUnavailable, osmIptables, PodNetwork, removeStaleNamespaces, UnixToTcp } from './netns.ts';
import { envoy, poll as pollFor } from './support.ts';
import type { LooseJson as Json } from '../../src/shared/json.ts';

/** Why the pods cannot run here (no root, no iptables), or undefined. */
export const podsUnavailable = envoy ? (netnsUnavailable() ?? iptablesUnavailable()) : undefined;
export const PROXY_UID = 1500;
const POLLS = 400;
const POLL_MS = 50;

/** Pod addresses and ClusterIPs of the test subnet (10.250.0.0/24 for pods, 10.96.0.0/24 for services). */
export const PODS: Record<string, { ip: string; app: Json }> = {
  'bookbuyer/bookbuyer': { ip: '10.250.0.10', app: { name: 'bookbuyer' } },
  'bookstore/bookstore': { ip: '10.250.0.11', app: { name: 'bookstore-v1', http: [14001] } },
  'bookstore/bookstore-v2': { ip: '10.250.0.12', app: { name: 'bookstore-v2', http: [14001] } },
  'bookthief/bookthief': { ip: '10.250.0.13', app: { name: 'bookthief' } },
  'bookwarehouse/bookwarehouse': { ip: '10.250.0.14', app: { name: 'bookwarehouse', http: [14001] } },
  'bookwarehouse/mysql': { ip: '10.250.0.15', app: { name: 'mysql', serverFirst: [3306] } },
};
export const CLUSTER_IPS: Record<string, string> = {
  'bookstore/bookstore': '10.96.0.10',
  'bookstore/bookstore-v1': '10.96.0.11',
  'bookstore/bookstore-v2': '10.96.0.12',
  'bookwarehouse/bookwarehouse': '10.96.0.14',
};
const ENDPOINTS: Record<string, { pods: string[]; port: number; portName: string }> = {
  'bookstore/bookstore': { pods: ['bookstore/bookstore', 'bookstore/bookstore-v2'], port: 14001, portName: 'bookstore-port' },
  'bookstore/bookstore-v1': { pods: ['bookstore/bookstore'], port: 14001, portName: 'bookstore-port' },
  'bookstore/bookstore-v2': { pods: ['bookstore/bookstore-v2'], port: 14001, portName: 'bookstore-port' },
  'bookwarehouse/bookwarehouse': { pods: ['bookwarehouse/bookwarehouse'], port: 14001, portName: 'bookwarehouse-port' },
  'bookwarehouse/mysql': { pods: ['bookwarehouse/mysql'], port: 3306, portName: 'client' },
};

/** The bookstore fixture with ClusterIPs on its Services and Endpoints for the pods' addresses. */
export function writeMesh(target: string): void {
  cpSync('fixtures/bookstore', target, { recursive: true });
  for (const file of readdirSync(target)) {
    const path = join(target, file);
    const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Json | null);
    let touched = false;
    for (const doc of docs) {
      const key = doc && `${doc.metadata?.namespace}/${doc.metadata?.name}`;
      if (doc?.kind === 'Service' && key && CLUSTER_IPS[key]) {
        doc.spec.clusterIP = CLUSTER_IPS[key];
        touched = true;
      }
    }
    if (touched) writeFileSync(path, docs.filter(Boolean).map((d) => stringify(d)).join('---\n'));
  }
  const endpoints = Object.entries(ENDPOINTS).map(([key, e]) => {
    const [namespace, name] = key.split('/');
    return {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace },
      subsets: [{ addresses: e.pods.map((p) => ({ ip: PODS[p].ip })), ports: [{ name: e.portName, port: e.port, protocol: 'TCP' }] }],
    };
  });
  writeFileSync(join(target, 'endpoints.yaml'), endpoints.map((d) => stringify(d)).join('---\n'));
}

export const poll = <T>(what: string, probe: () => Promise<T | string>): Promise<T> => pollFor(what, probe, POLLS, POLL_MS);

export interface BookstorePods {
  /** The temp directory holding everything (ca/, mesh/, out/, pods/, apps/). */
  readonly dir: string;
  /** The manifests `serve --watch` reads. */
  readonly mesh: string;
  /** `compile`'s output tree. */
  readonly out: string;
  readonly server: ServerHandle;
  readonly pods: ReadonlyMap<string, EnvoyPod>;
  /** Asks the app in `pod` to make a call from inside its pod (pod-app.mjs's control socket). */
  fromPod(pod: string, kind: 'http' | 'tcp', args: Json): Promise<Json>;
  stop(): Promise<void>;
}

/** Starts the pods, each with its listeners and clusters warmed. `certLifetimeMs`: of the certificates served over SDS. */
export async function startBookstorePods(envoyBin: string, certLifetimeMs: number): Promise<BookstorePods> {
  removeStaleNamespaces();
  const dir = mkdtempSync(join(tmpdir(), 'smi-sidecars-'));
  chmodSync(dir, 0o755); // Envoy runs as uid 1500 and reads its bootstrap and certificate from here
  const pods = new Map<string, EnvoyPod>();
  let server: ServerHandle | undefined;
  let relay: UnixToTcp | undefined;
  let network: PodNetwork | undefined;
  const stop = async () => {
    await Promise.all([...pods.values()].map((p) => p.stop()));
    network?.remove();
    await relay?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = join(dir, 'ca');
    await (await BuiltinCa.init(ca)).close();
    writeFileSync(join(dir, 'trust.pem'), readFileSync(join(ca, 'ca.crt')));
    const mesh = join(dir, 'mesh');
    writeMesh(mesh);
    server = await startServer({ paths: [mesh], port: 0, adminPort: 0, watch: true, logger: memoryLogger('info'), processMetrics: false, ca: { provider: 'builtin', dir: ca, lifetimeMs: certLifetimeMs } });
    const out = join(dir, 'out');
    const r = await runCli([mesh, '--ca', ca, '--emit-secrets', '--xds-port', String(server.port), '-o', out]);
    assert.is(r.code, 0, r.stderr);
    relay = await UnixToTcp.start(join(dir, 'xds.sock'), server.port);
    network = PodNetwork.create(`${namespacePrefix()}r`, '10.250.0.1');
    mkdirSync(join(dir, 'apps'));
    for (const [i, [name, spec]] of Object.entries(PODS).entries()) {
      chownSync(join(out, name, 'tls.key'), PROXY_UID, PROXY_UID);
      const podDir = join(dir, 'pods', String(i));
      mkdirSync(podDir, { recursive: true });
      const pod = await EnvoyPod.start({
        name,
        netns: `${namespacePrefix()}${i}`,
        dir: podDir,
        envoyBin,
        bootstrap: join(out, name, 'bootstrap.yaml'),
        xdsPort: server.port,
        xdsSocket: join(dir, 'xds.sock'),
        uid: PROXY_UID,
        prepare: (netns) => {
          network!.attach(netns, spec.ip, i);
          osmIptables(netns, PROXY_UID);
        },
      });
      pods.set(name, pod);
      await pod.startApp({ ...spec.app, control: join(dir, 'apps', `${name.replace('/', '_')}.sock`) });
    }
    for (const pod of pods.values()) {
      await poll(`${pod.name} has its listeners`, async () => {
        if (!pod.running) throw new Error(`${pod.name}: Envoy exited:\n${pod.envoyLog}`);
        const s = await pod.stats();
        if (!s) return 'no admin yet';
        return (s.get('listener_manager.lds.update_success') ?? 0) >= 1 && s.get('listener_manager.total_listeners_warming') === 0 && s.get('cluster_manager.warming_clusters') === 0
          ? true
          : `lds ${s.get('listener_manager.lds.update_success')}, warming ${s.get('listener_manager.total_listeners_warming')}/${s.get('cluster_manager.warming_clusters')}`;
      });
    }
    const fromPod = (pod: string, kind: 'http' | 'tcp', args: Json): Promise<Json> => {
      const socketPath = join(dir, 'apps', `${pod.replace('/', '_')}.sock`);
      return new Promise((resolve, reject) => {
        const req = request({ socketPath, path: `/${kind}`, method: 'POST' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(JSON.parse(body) as Json));
        });
        req.on('error', reject);
        req.end(JSON.stringify(args));
      });
    };
    return { dir, mesh, out, server, pods, fromPod, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
