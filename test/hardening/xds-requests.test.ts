/**
 * Hostile and broken ADS requests: each ends (or is ignored) with a clear gRPC status, and
 * never hurts the server or the other proxies on it. Loopback, ephemeral ports.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { envoyType } from '../../src/envoy/protos.ts';
import { MAX_NAMES_PER_TYPE, MAX_REQUEST_BYTES, MAX_RESOURCE_NAME_LENGTH } from '../../src/serve/ops/limits.ts';
import { simpleProxy, testServer, type TestServer } from '../../src/serve/testing.ts';
import { CDS, EDS, KNOWN_UNSERVED } from '../../src/serve/xds/type-urls.ts';
import { metric, sendRawBytes } from './xds-clients.ts';

const NODE = { id: 'ns/a' };

/** The status the server ends `s` with; a response instead (or neither within 2 s) fails the test. */
function endedWith(s: { ended(): Promise<ServiceError | undefined>; next(ms?: number): Promise<{ typeUrl: string }> }): Promise<ServiceError | undefined> {
  return Promise.race([
    s.ended(),
    s.next(2000).then((r) => {
      throw new Error(`answered (${r.typeUrl}) instead of ending the stream`);
    }),
  ]);
}

/** A well-behaved proxy on the same server still gets its config. */
async function stillServes(srv: TestServer): Promise<void> {
  const s = srv.client().sotw();
  s.send({ node: NODE, typeUrl: CDS });
  const r = await s.next();
  assert.is(r.resources.length, 1);
  s.close();
}

test('bytes that are not a DiscoveryRequest end the stream with INTERNAL; the server goes on', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    // Field 1 (version_info) as a length-delimited string claiming 100 bytes, with 3 present.
    const garbage = [Buffer.from([0x0a, 0x64, 0x61, 0x62, 0x63]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])];
    for (const g of garbage) {
      const e = await sendRawBytes(srv.target, [g]);
      assert.is(e?.code, 13, String(e?.details)); // INTERNAL: "Error deserializing request"
    }
    // A valid encoding of a request without node: INVALID_ARGUMENT, as a real client would get.
    const noNode = Buffer.from(envoyType('envoy.service.discovery.v3.DiscoveryRequest').encode({ typeUrl: CDS }).finish());
    assert.is((await sendRawBytes(srv.target, [noNode]))?.code, 3);
    await stillServes(srv);
  } finally {
    await srv.close();
  }
});

test(`a request over ${MAX_REQUEST_BYTES} bytes is RESOURCE_EXHAUSTED before it is decoded`, async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    const names = Array.from({ length: Math.ceil(MAX_REQUEST_BYTES / 1000) + 10 }, (_, i) => `${i}`.padEnd(1000, 'x'));
    s.send({ node: NODE, typeUrl: CDS, resourceNames: names });
    const e = await s.ended();
    assert.is(e?.code, 8, String(e?.details)); // RESOURCE_EXHAUSTED
    await stillServes(srv);
  } finally {
    await srv.close();
  }
});

test('requests before node, and node ids that do not parse, end with INVALID_ARGUMENT and a bounded message', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const c = srv.client();
    for (const id of ['', 'a/b/c', '/a', 'ns/', '../etc', 'NS/A', 'ns/a b', 'ns/\u00e9', 'x'.repeat(100_000)]) {
      const s = c.sotw();
      s.send(id ? { node: { id }, typeUrl: CDS } : { typeUrl: CDS });
      const e = await s.ended();
      assert.is(e?.code, 3, `${id.slice(0, 20)}: ${e?.details}`);
      assert.ok(e!.details.length < 300, `status message of ${e!.details.length} characters`);
    }
    // A delta stream whose first request has no node at all, then one with no type_url.
    const d = c.delta();
    d.send({ typeUrl: CDS });
    assert.is((await d.ended())?.code, 3);
    const t = c.sotw();
    t.send({ node: NODE, typeUrl: '' });
    assert.is((await t.ended())?.code, 3);
    assert.is(await metric(srv.handle, 'streams'), 0);
    await stillServes(srv);
  } finally {
    await srv.close();
  }
});

test('type URLs Envoy may ask for and we do not serve (RTDS, ECDS, ...) get an empty answer; invented ones and xDS v2 end the stream with INVALID_ARGUMENT', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    for (const typeUrl of KNOWN_UNSERVED) {
      s.send({ node: NODE, typeUrl });
      const r = await s.next();
      assert.equal([r.typeUrl, r.resources.length], [typeUrl, 0]);
    }
    // Still answered: the served types keep working on the same stream.
    s.send({ typeUrl: CDS });
    assert.is((await s.next()).resources.length, 1);
    s.send({ typeUrl: 'type.example/t0', resourceNames: ['x'] });
    const e = await endedWith(s);
    assert.is(e?.code, 3);
    assert.match(e!.details, 'not an xDS resource type');
    const d = srv.client().delta();
    d.send({ node: NODE, typeUrl: 'type.googleapis.com/envoy.api.v2.Cluster' });
    const v2 = await endedWith(d);
    assert.is(v2?.code, 3);
    assert.match(v2!.details, 'v2');
    assert.ok(srv.logger.records.some((r) => r.code === 'SMI5004' && String(r.msg).includes('type.example/t0')));
    await stillServes(srv);
  } finally {
    await srv.close();
  }
});

test(`a resource name over ${MAX_RESOURCE_NAME_LENGTH} characters ends the stream with INVALID_ARGUMENT, wherever the request carries it`, async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const c = srv.client();
    const long = 'n'.repeat(MAX_RESOURCE_NAME_LENGTH + 1);
    const ok = 'n'.repeat(MAX_RESOURCE_NAME_LENGTH);
    const s = c.sotw();
    s.send({ node: NODE, typeUrl: EDS, resourceNames: [ok] });
    s.send({ typeUrl: EDS, resourceNames: [ok, long] });
    const e = await endedWith(s);
    assert.is(e?.code, 3, String(e?.details));
    assert.match(e!.details, `at most ${MAX_RESOURCE_NAME_LENGTH}`);
    assert.ok(e!.details.length < 300);
    for (const req of [{ resourceNamesSubscribe: [long] }, { initialResourceVersions: { [long]: 'v' } }, { resourceNamesUnsubscribe: [long] }]) {
      const d = c.delta();
      d.send({ node: NODE, typeUrl: CDS, ...req });
      assert.is((await endedWith(d))?.code, 3);
    }
    await stillServes(srv);
  } finally {
    await srv.close();
  }
});

test(`more than ${MAX_NAMES_PER_TYPE} subscribed names per type is INVALID_ARGUMENT, delta subscriptions added up across requests`, async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const d = srv.client().delta();
    const batch = (k: number) => Array.from({ length: 25_000 }, (_, i) => `c${k}-${i}`);
    d.send({ node: NODE, typeUrl: CDS, resourceNamesSubscribe: batch(0) });
    await d.next(); // the names do not exist: removed_resources
    for (let k = 1; k <= 4; k++) d.send({ typeUrl: CDS, resourceNamesSubscribe: batch(k) });
    const e = await d.ended();
    assert.is(e?.code, 3, String(e?.details));
    assert.match(e!.details, 'resource names');
    await stillServes(srv);
  } finally {
    await srv.close();
  }
});

test.run();
