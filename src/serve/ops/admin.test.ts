/**
 * The admin port's exposure: it binds loopback unless told otherwise, whatever the xDS port's
 * address; `/debug/*` (every proxy's configuration) answers 404 unless `debugEndpoints` is on;
 * probes and metrics answer either way. Other loopback addresses (127.0.0.2, 127.0.0.3) stand in
 * for a public one: tests bind nothing but loopback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { debugRefusal, isLoopback } from './admin.ts';
import { CONFIG_DUMP_TYPE } from '../../compiler/config-dump.ts';
import { decodeToProtoJson, encodeProtoJson } from '../../envoy/protos.ts';
import { simpleProxy, testServer } from '../testing.ts';
import { CDS, LDS, RDS } from '../xds/type-urls.ts';

const PROXY = simpleProxy('ns/a', { 'ns/x|80': 100 });

/** The status of GET `url`, or the error code when nothing listens there. */
async function statusOf(url: string): Promise<number | string> {
  try {
    return (await fetch(url)).status;
  } catch (err) {
    return String((err as { cause?: { code?: string } }).cause?.code ?? err);
  }
}

test('by default the admin port binds 127.0.0.1, not the xDS address, and /debug/* is 404 while probes and metrics answer', async () => {
  const srv = await testServer([PROXY], { address: '127.0.0.2' });
  try {
    assert.is(srv.handle.address, '127.0.0.2');
    assert.is(srv.handle.adminAddress, '127.0.0.1');
    const admin = `http://127.0.0.1:${srv.handle.adminPort}`;
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.is(await statusOf(`${admin}${path}`), 200, path);
    for (const path of ['/debug/config?node=ns/a', '/debug/streams', '/debug/snapshot']) {
      const res = await fetch(`${admin}${path}`);
      assert.is(res.status, 404, path);
      assert.not.match(await res.text(), 'ns/x');
    }
    assert.is(await statusOf(`http://127.0.0.2:${srv.handle.adminPort}/healthz`), 'ECONNREFUSED');
  } finally {
    await srv.close();
  }
});

test('debugEndpoints serves /debug/*; adminAddress binds the admin port where it says', async () => {
  const srv = await testServer([PROXY], { debugEndpoints: true, adminAddress: '127.0.0.3' });
  try {
    const admin = `http://127.0.0.3:${srv.handle.adminPort}`;
    const res = await fetch(`${admin}/debug/config?node=ns/a`);
    assert.is(res.status, 200);
    assert.match(await res.text(), 'ns/x|80');
    assert.is(await statusOf(`${admin}/debug/streams`), 200);
    assert.is(await statusOf(`http://127.0.0.1:${srv.handle.adminPort}/healthz`), 'ECONNREFUSED');
  } finally {
    await srv.close();
  }
});

/** GETs the proxy's config dump until `done` holds for it (the server handles an ACK after the test sent it). */
async function dumpWhen(url: string, done: (dump: any) => boolean): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(url);
    if (res.status === 200) {
      const dump = await res.json();
      if (done(dump)) return dump;
    }
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`${url}: never as expected`);
}

test('/debug/config_dump: what a connected proxy holds, as Envoy\'s /config_dump (SotW: the accepted response\'s version; delta: each resource\'s own)', async () => {
  const proxy = simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 });
  const srv = await testServer([proxy], { debugEndpoints: true });
  try {
    const url = `http://127.0.0.1:${srv.handle.adminPort}/debug/config_dump?node=ns/a`;
    const none = await fetch(url);
    assert.is(none.status, 404, 'no proxy connected yet');
    assert.match(await none.text(), 'no connected proxy ns/a');

    const s = srv.client().sotw();
    const versions: Record<string, string> = {};
    for (const [typeUrl, names] of [[CDS, []], [LDS, []], [RDS, ['rds-outbound.80']]] as const) {
      s.send({ node: { id: 'ns/a' }, typeUrl, resourceNames: [...names] });
      const r = await s.next();
      versions[typeUrl] = r.versionInfo;
      s.send({ typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames: [...names] });
    }
    const dump = await dumpWhen(url, (d) => d.configs[3].dynamic_route_configs[0]?.version_info === versions[RDS]);
    // It is an envoy.admin.v3.ConfigDump, Any values and all.
    decodeToProtoJson(CONFIG_DUMP_TYPE, encodeProtoJson(CONFIG_DUMP_TYPE, dump));
    const [, clusters, listeners, routes] = dump.configs;
    assert.is(clusters.version_info, versions[CDS]);
    assert.equal(clusters.dynamic_active_clusters.map((c: any) => [c.cluster.name, c.version_info]), [['ns/x|80', versions[CDS]], ['ns/y|80', versions[CDS]]]);
    assert.equal(listeners.dynamic_listeners.map((l: any) => [l.name, l.active_state.version_info]), [['outbound-listener', versions[LDS]]]);
    assert.equal(routes.dynamic_route_configs.map((r: any) => r.route_config), proxy.resources.routes);

    const d = srv.client().delta();
    d.send({ node: { id: 'ns/b' }, typeUrl: CDS });
    const e = await d.ended();
    assert.is(e?.code, 5, 'unknown workload refused');
  } finally {
    await srv.close();
  }
  const delta = await testServer([proxy], { debugEndpoints: true });
  try {
    const d = delta.client().delta();
    d.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const r = await d.next();
    d.send({ typeUrl: CDS, responseNonce: r.nonce });
    const own = Object.fromEntries(r.resources.map((x) => [x.name, x.version]));
    const url = `http://127.0.0.1:${delta.handle.adminPort}/debug/config_dump?node=ns/a`;
    const dump = await dumpWhen(url, (dd) => dd.configs[1].version_info === r.systemVersionInfo);
    assert.equal(dump.configs[1].dynamic_active_clusters.map((c: any) => [c.cluster.name, c.version_info]), [['ns/x|80', own['ns/x|80']], ['ns/y|80', own['ns/y|80']]]);
    assert.not.equal(own['ns/x|80'], own['ns/y|80']);
  } finally {
    await delta.close();
  }
  // Off: 404, as every /debug route.
  const off = await testServer([proxy]);
  try {
    assert.is(await statusOf(`http://127.0.0.1:${off.handle.adminPort}/debug/config_dump?node=ns/a`), 404);
  } finally {
    await off.close();
  }
});

test('which addresses count as this host alone; /debug answers loopback clients only, and only when on', () => {
  for (const a of ['127.0.0.1', '127.0.0.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['0.0.0.0', '::', '10.0.0.7', '192.168.1.2', '127.0.0.1.example.com', '::ffff:10.0.0.7', '']) assert.not.ok(isLoopback(a), a);
  assert.is(debugRefusal(false, '127.0.0.1')?.status, 404);
  assert.is(debugRefusal(true, '10.244.1.7')?.status, 403);
  assert.is(debugRefusal(true, '::ffff:10.244.1.7')?.status, 403);
  assert.is(debugRefusal(true, undefined)?.status, 403);
  assert.is(debugRefusal(true, '::ffff:127.0.0.1'), undefined);
});

test.run();
