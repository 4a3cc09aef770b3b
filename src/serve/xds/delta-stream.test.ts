import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DecodedDeltaResponse } from './ads-service.ts';
import type { DeltaRequestInit, RawStream } from './raw-client.ts';
import { simpleProxy, testServer } from '../testing.ts';
import { CDS, EDS, LDS, RDS } from './type-urls.ts';

type Delta = RawStream<DeltaRequestInit, DecodedDeltaResponse>;

const updated = (r: DecodedDeltaResponse): string[] => r.resources.map((x) => x.name);
const ack = (s: Delta, r: DecodedDeltaResponse, more: Partial<DeltaRequestInit> = {}): void =>
  s.send({ typeUrl: r.typeUrl, responseNonce: r.nonce, ...more });

test('wildcard: the first response carries everything, with per-resource versions', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().delta();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const r = await s.next();
    assert.equal(updated(r), ['ns/x|80', 'ns/y|80']);
    assert.equal(r.removedResources, []);
    for (const res of r.resources) {
      assert.ok(res.version.length > 0);
      assert.is(res.resource?.type_url, CDS);
    }
    ack(s, r);
    assert.ok(await srv.quiet(s, CDS), 'no response to an ACK');
  } finally {
    await srv.close();
  }
});

test('a change sends only the resources that changed, and removals by name', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 }, { 'ns/x|80': ['10.0.0.1:80'] })]);
  try {
    const s = srv.client().delta();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNamesSubscribe: ['ns/x|80', 'ns/y|80'] });
    const r1 = await s.next();
    assert.equal(updated(r1), ['ns/x|80', 'ns/y|80']);
    const yVersion = r1.resources.find((x) => x.name === 'ns/y|80')!.version;
    ack(s, r1);

    // ns/x's endpoints change; ns/y's do not.
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 }, { 'ns/x|80': ['10.0.0.2:80'] })]);
    const r2 = await s.next();
    assert.equal(updated(r2), ['ns/x|80']);
    assert.equal(r2.removedResources, []);
    ack(s, r2);

    // Wildcard CDS on another stream of the same proxy: a removed cluster is announced by name.
    const w = srv.client().delta();
    w.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    ack(w, await w.next());
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100 }, { 'ns/x|80': ['10.0.0.2:80'] })]);
    const c2 = await w.next();
    assert.equal(updated(c2), []);
    assert.equal(c2.removedResources, ['ns/y|80']);
    assert.ok(yVersion);
  } finally {
    await srv.close();
  }
});

test('unsubscribe stops updates; a name that does not exist is reported removed once', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().delta();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNamesSubscribe: ['ns/x|80', 'ns/ghost|80'] });
    const r1 = await s.next();
    assert.equal(updated(r1), ['ns/x|80']);
    assert.equal(r1.removedResources, ['ns/ghost|80']);
    ack(s, r1, { resourceNamesUnsubscribe: ['ns/x|80'] });
    assert.ok(await srv.quiet(s, EDS));
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 }, { 'ns/x|80': ['10.9.9.9:80'] })]);
    assert.ok(await srv.quiet(s, EDS), 'no update for an unsubscribed resource');
    // Subscribing again sends it (even though the client was sent a version before).
    s.send({ typeUrl: EDS, resourceNamesSubscribe: ['ns/y|80'] });
    assert.equal(updated(await s.next()), ['ns/y|80']);
  } finally {
    await srv.close();
  }
});

test('initial_resource_versions: what the client already holds is not sent again', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const first = srv.client().delta();
    first.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const r = await first.next();
    const held = Object.fromEntries(r.resources.filter((x) => x.name === 'ns/x|80').map((x) => [x.name, x.version]));
    first.close();
    // Reconnect holding ns/x at its current version and a cluster that no longer exists.
    const again = srv.client().delta();
    again.send({ node: { id: 'ns/a' }, typeUrl: CDS, initialResourceVersions: { ...held, 'ns/gone|80': 'old' } });
    const r2 = await again.next();
    assert.equal(updated(r2), ['ns/y|80']);
    assert.equal(r2.removedResources, ['ns/gone|80']);
  } finally {
    await srv.close();
  }
});

test('a NACK is not answered with the same resources again', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().delta();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    const r1 = await s.next();
    s.send({ typeUrl: CDS, responseNonce: r1.nonce, errorDetail: { code: 3, message: 'nope' } });
    assert.ok(await srv.quiet(s, CDS), 'the rejected state is not sent again');
    assert.is((await srv.handle.metrics.nacks.get()).values[0]?.value, 1);
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100, 'ns/y|80': 0 })]);
    assert.equal(updated(await s.next()), ['ns/y|80']);
  } finally {
    await srv.close();
  }
});

test('a subscription change with a stale nonce is still applied (it is a delta), but ACKs nothing', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().delta();
    s.send({ node: { id: 'ns/a' }, typeUrl: EDS, resourceNamesSubscribe: ['ns/x|80'] });
    const r1 = await s.next();
    ack(s, r1);
    s.send({ typeUrl: EDS, responseNonce: 'stale', resourceNamesSubscribe: ['ns/y|80'] });
    assert.equal(updated(await s.next()), ['ns/y|80']);
    assert.is((await srv.handle.metrics.staleRequests.get()).values[0]?.value, 1);
  } finally {
    await srv.close();
  }
});

test('make-before-break over delta: a removed cluster is announced after the routes moved off it', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
  try {
    const s = srv.client().delta();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    ack(s, await s.next());
    s.send({ typeUrl: LDS });
    ack(s, await s.next());
    s.send({ typeUrl: RDS, resourceNamesSubscribe: ['rds-outbound.80'] });
    ack(s, await s.next());
    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
    const rds = await s.next();
    assert.is(rds.typeUrl, RDS);
    assert.ok(await srv.quiet(s, CDS));
    ack(s, rds);
    const cds = await s.next();
    assert.is(cds.typeUrl, CDS);
    assert.equal(cds.removedResources, ['ns/y|80']);
  } finally {
    await srv.close();
  }
});

test.run();
