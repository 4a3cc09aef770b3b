import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nameOfAny, type RawStream, type SotwRequestInit } from './raw-client.ts';
import type { DecodedSotwResponse } from './ads-service.ts';
import { cla, cluster, listener, proxy, simpleProxy, testServer } from '../testing.ts';
import { CDS, EDS, LDS, RDS } from './type-urls.ts';

type Sotw = RawStream<SotwRequestInit, DecodedSotwResponse>;

const names = (r: DecodedSotwResponse): string[] => r.resources.map(nameOfAny);
const ack = (s: Sotw, r: DecodedSotwResponse, resourceNames?: string[]): void =>
  s.send({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames });

test('wildcard CDS gets the full state; an ACK gets no response', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const r = await s.next();
    assert.equal(names(r), ['ns/x|80']);
    assert.is(r.typeUrl, CDS);
    assert.ok(r.versionInfo.length > 0);
    ack(s, r);
    assert.ok(await srv.quiet(s, CDS), 'no response to an ACK');
    assert.is(await srv.handle.metrics.acks.get().then((m) => m.values[0]?.value), 1);
  } finally {
    await srv.close();
  }
});

test('the first request must name a known workload', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const c = srv.client();
    const noNode = c.sotw();
    noNode.send({ typeUrl: CDS });
    const e1 = await noNode.ended();
    assert.is(e1?.code, 3); // INVALID_ARGUMENT
    assert.match(e1!.details, /node\.id/);
    const unknown = c.sotw();
    unknown.send({ node: { id: 'ns/zzz' }, typeUrl: CDS });
    const e2 = await unknown.ended();
    assert.is(e2?.code, 5); // NOT_FOUND
    assert.match(e2!.details, /no workload ns\/zzz.*workloads in namespace ns: ns\/a/);
    const bad = c.sotw();
    bad.send({ node: { id: 'not-a-node-id' }, typeUrl: CDS });
    assert.is((await bad.ended())?.code, 3);
  } finally {
    await srv.close();
  }
});

test('a request with a stale nonce is ignored, subscription included', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/y|80': 0 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNames: ['ns/x|80'] });
    const r1 = await s.next();
    assert.equal(names(r1), ['ns/x|80']);
    ack(s, r1);
    // A request answering a nonce the server never sent last: stale, so its new names are ignored.
    s.send({ typeUrl: EDS, responseNonce: 'not-the-latest', resourceNames: ['ns/x|80', 'ns/y|80'] });
    await srv.logger.waitFor((r) => r.msg === 'stale nonce' && r.nonce === 'not-the-latest');
    assert.is(await srv.responses(), 1, 'ignored: no response');
    const m = await srv.handle.metrics.staleRequests.get();
    assert.is(m.values[0]?.value, 1);
    // The same change with the latest nonce is applied.
    s.send({ typeUrl: EDS, responseNonce: r1.nonce, versionInfo: r1.versionInfo, resourceNames: ['ns/x|80', 'ns/y|80'] });
    const r2 = await s.next();
    assert.equal(names(r2), ['ns/x|80', 'ns/y|80']);
    assert.is.not(r2.versionInfo, r1.versionInfo);
  } finally {
    await srv.close();
  }
});

test('a NACK is recorded and the rejected version is not resent; the next change is sent', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const r1 = await s.next();
    s.send({ typeUrl: CDS, versionInfo: '', responseNonce: r1.nonce, errorDetail: { code: 3, message: 'cluster rejected' } });
    // go-control-plane's loop (#962): the NACK's version_info differs from the snapshot's, so it resends. We must not.
    assert.ok(await srv.quiet(s, CDS), 'the rejected state is not sent again');
    assert.is((await srv.handle.metrics.nacks.get()).values[0]?.value, 1);
    const nack = srv.logger.records.find((r) => r.code === 'SMI5002');
    assert.ok(nack, 'NACK logged with SMI5002');
    assert.match(nack!.msg, /proxy ns\/a rejected .*Cluster version .*: cluster rejected/);
    // A re-request after the NACK (same nonce, same names) does not resend either.
    s.send({ typeUrl: CDS, versionInfo: '', responseNonce: r1.nonce });
    assert.ok(await srv.quiet(s, CDS));
    // New content is a new version, and goes out.
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/z|80': 0 })]);
    const r2 = await s.next();
    assert.equal(names(r2), ['ns/x|80', 'ns/z|80']);
    assert.is.not(r2.versionInfo, r1.versionInfo);
  } finally {
    await srv.close();
  }
});

test('pushes go out CDS, EDS, LDS, RDS; a type with a change behind an unACKed response holds back the later ones', async () => {
  const v1 = simpleProxy('ns/a', { 'ns/x|80': 100 });
  const srv = await testServer([v1]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const c1 = await s.next();
    ack(s, c1);
    s.send({ typeUrl: EDS, resourceNames: ['ns/x|80'] });
    const e1 = await s.next();
    ack(s, e1, ['ns/x|80']);
    s.send({ typeUrl: LDS });
    const l1 = await s.next();
    ack(s, l1);
    s.send({ typeUrl: RDS, resourceNames: ['rds-outbound.80'] });
    const rd1 = await s.next();
    ack(s, rd1, ['rds-outbound.80']);
    assert.ok(await srv.quiet(s, CDS));

    // New cluster + new split + a new listener name: CDS first, then (no EDS change) LDS, RDS.
    const v2 = simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 });
    const v2b = proxy('ns/a', {
      ...v2.resources,
      listeners: [listener('outbound-listener', 'rds-outbound.80', 15002)],
      clusters: [...v2.resources.clusters],
      endpoints: [...v2.resources.endpoints],
      routes: [...v2.resources.routes],
    });
    srv.publish([v2b]);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await s.next();
      order.push(r.typeUrl);
    }
    assert.equal(order, [CDS, LDS, RDS]);

    // Now a change while CDS is unACKed: the next CDS change waits for its ACK, and LDS/RDS wait behind it.
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 10, 'ns/y|80': 80, 'ns/z|80': 10 })]);
    assert.ok(await srv.quiet(s, CDS), 'nothing while CDS, LDS and RDS responses are unACKed');
  } finally {
    await srv.close();
  }
});

test('named EDS is answered once every name exists', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNames: ['ns/x|80', 'ns/later|80'] });
    assert.ok(await srv.quiet(s, EDS), 'not answered while a name is missing');
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/later|80': 50 }, { 'ns/later|80': ['10.0.0.9:80'] })]);
    const r = await s.next();
    assert.equal(names(r), ['ns/later|80', 'ns/x|80']);
  } finally {
    await srv.close();
  }
});

test('unsubscribing a name drops it from the next named response', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNames: ['ns/x|80', 'ns/y|80'] });
    const r1 = await s.next();
    assert.equal(names(r1), ['ns/x|80', 'ns/y|80']);
    ack(s, r1, ['ns/x|80']);
    const r2 = await s.next();
    assert.equal(names(r2), ['ns/x|80']);
  } finally {
    await srv.close();
  }
});

test('an ACK repeating its names gets no response; an ACK that also names more is answered', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNames: ['ns/x|80'] });
    const r1 = await s.next();
    assert.equal(names(r1), ['ns/x|80']);
    ack(s, r1, ['ns/x|80']);
    assert.ok(await srv.quiet(s, EDS));
    ack(s, r1, ['ns/x|80', 'ns/y|80']);
    const r2 = await s.next();
    assert.equal(names(r2), ['ns/x|80', 'ns/y|80']);
    ack(s, r2, ['ns/y|80', 'ns/x|80']);
    assert.ok(await srv.quiet(s, EDS));
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 }, { 'ns/y|80': ['10.0.0.9:80'] })]);
    const r3 = await s.next();
    assert.equal(names(r3), ['ns/x|80', 'ns/y|80']);
    assert.is.not(r3.versionInfo, r2.versionInfo);
  } finally {
    await srv.close();
  }
});

test('make-before-break: a removed cluster stays in CDS until listeners and routes without it are ACKed', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    ack(s, await s.next());
    s.send({ typeUrl: LDS });
    ack(s, await s.next());
    s.send({ typeUrl: RDS, resourceNames: ['rds-outbound.80'] });
    ack(s, await s.next(), ['rds-outbound.80']);

    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
    // The route moves off ns/y first; CDS had no addition, so the first response is RDS.
    const rds = await s.next();
    assert.is(rds.typeUrl, RDS);
    assert.ok(await srv.quiet(s, CDS), 'ns/y|80 is not removed before the new routes are ACKed');
    ack(s, rds, ['rds-outbound.80']);
    const cds = await s.next();
    assert.is(cds.typeUrl, CDS);
    assert.equal(names(cds), ['ns/x|80']);
  } finally {
    await srv.close();
  }
});

test('make-before-break: a new cluster goes out before the route that uses it, in the same push', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    ack(s, await s.next());
    s.send({ typeUrl: RDS, resourceNames: ['rds-outbound.80'] });
    ack(s, await s.next(), ['rds-outbound.80']);
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/y|80': 0 })]);
    const first = await s.next();
    const second = await s.next();
    assert.equal([first.typeUrl, second.typeUrl], [CDS, RDS]);
    assert.equal(names(first), ['ns/x|80', 'ns/y|80']);
  } finally {
    await srv.close();
  }
});

test('only proxies whose resources changed are pushed to', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 }), simpleProxy('ns/b', { 'ns/x|80': 100 })]);
  try {
    const c = srv.client();
    const a = c.sotw();
    const b = c.sotw();
    a.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    b.send({ node: { id: 'ns/b' }, typeUrl: CDS });
    ack(a, await a.next());
    ack(b, await b.next());
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/y|80': 0 }), simpleProxy('ns/b', { 'ns/x|80': 100 })]);
    assert.equal(names(await a.next()), ['ns/x|80', 'ns/y|80']);
    assert.ok(await srv.quiet(b, CDS));
  } finally {
    await srv.close();
  }
});

test('versions are content hashes: a replica compiling the same input gives the same versions', async () => {
  const input = () => [simpleProxy('ns/a', { 'ns/x|80': 80, 'ns/y|80': 20 }, { 'ns/x|80': ['10.0.0.1:80'] })];
  const one = await testServer(input());
  const two = await testServer(input());
  try {
    const versions = async (target: typeof one): Promise<string[]> => {
      const s = target.client().sotw();
      s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
      const out = [(await s.next()).versionInfo];
      s.send({ typeUrl: EDS, resourceNames: ['ns/x|80', 'ns/y|80'] });
      out.push((await s.next()).versionInfo);
      return out;
    };
    assert.equal(await versions(one), await versions(two));
    assert.is(one.handle.snapshot()!.version, two.handle.snapshot()!.version);
  } finally {
    await one.close();
    await two.close();
  }
});

test('a workload that leaves the manifests gets its stream ended with NOT_FOUND', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 }), simpleProxy('ns/b', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/b' }, typeUrl: CDS });
    ack(s, await s.next());
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
    const e = await s.ended();
    assert.is(e?.code, 5);
    assert.match(e!.details, /ns\/b is no longer in the compiled manifests/);
  } finally {
    await srv.close();
  }
});

test('a compile with errors keeps the last good snapshot and logs SMI5001', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const before = srv.handle.snapshot()!.version;
    srv.publish([], [{ code: 'SMI1001', level: 'error', message: 'YAML syntax error: bad', source: { file: 'm.yaml', line: 3, column: 1 } }]);
    assert.is(srv.handle.snapshot()!.version, before);
    assert.ok(srv.logger.records.some((r) => r.level === 'error' && /m\.yaml:3:1: error SMI1001/.test(r.msg)));
    assert.ok(srv.logger.records.some((r) => r.code === 'SMI5001' && r.msg.includes(before)));
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    assert.equal(names(await s.next()), ['ns/x|80']);
  } finally {
    await srv.close();
  }
});

test('an unencodable resource fails the snapshot with SMI9001, not the server', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const before = srv.handle.snapshot()!.version;
    srv.publish([proxy('ns/a', { clusters: [cluster('ns/x|80', { no_such_field: 1 })], endpoints: [cla('ns/x|80')] })]);
    assert.is(srv.handle.snapshot()!.version, before);
    assert.ok(srv.logger.records.some((r) => r.code === 'SMI9001'));
  } finally {
    await srv.close();
  }
});

test('streams asking for a proxy\'s whole set, by wildcard or by every name, get the same shared response and its changes', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/y|80': 0 })]);
  try {
    const wild = srv.client().sotw();
    const named = srv.client().sotw();
    wild.send({ node: { id: 'ns/a' }, typeUrl: EDS });
    named.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNames: ['ns/y|80', 'ns/x|80'] });
    const [w1, n1] = [await wild.next(), await named.next()];
    assert.equal(names(w1), ['ns/x|80', 'ns/y|80']);
    assert.is(n1.versionInfo, w1.versionInfo);
    assert.equal(n1.resources, w1.resources);
    assert.is.not(n1.nonce, w1.nonce);
    ack(wild, w1);
    ack(named, n1, ['ns/y|80', 'ns/x|80']);
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/y|80': 0 }, { 'ns/x|80': ['10.0.0.9:80'] })]);
    const [w2, n2] = [await wild.next(), await named.next()];
    assert.is.not(w2.versionInfo, w1.versionInfo);
    assert.is(n2.versionInfo, w2.versionInfo);
    assert.equal(n2.resources, w2.resources);
  } finally {
    await srv.close();
  }
});

test.run();
