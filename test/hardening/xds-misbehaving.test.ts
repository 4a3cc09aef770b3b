/**
 * Proxies that misbehave at the protocol level: a NACK storm, a client that never ACKs, and
 * a slow consumer that acknowledges (by guessing nonces) without reading. None of them makes
 * the server resend in a loop or queue snapshot after snapshot in memory.
 */
import { once } from 'node:events';
import { credentials, makeGenericClientConstructor, type ClientDuplexStream } from '@grpc/grpc-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adsClientDefinition, type DecodedSotwResponse } from '../../src/serve/xds/ads-service.ts';
import type { SotwRequestInit } from '../../src/serve/xds/raw-client.ts';
import { cluster, proxy, simpleProxy, testServer } from '../../src/serve/testing.ts';
import { CDS, EDS, LDS, RDS } from '../../src/serve/xds/type-urls.ts';
import { metric } from './xds-clients.ts';

const NODE = { id: 'ns/a' };

test('a NACK storm: one NACK recorded, no resend, bounded log lines; the next snapshot is sent once', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: NODE, typeUrl: CDS });
    const r1 = await s.next();
    const nack = { typeUrl: CDS, versionInfo: '', responseNonce: r1.nonce, errorDetail: { code: 3, message: 'rejected '.repeat(20_000) } };
    for (let i = 0; i < 1000; i++) s.send(nack);
    assert.ok(await srv.quiet(s, CDS), 'the rejected version was sent again');
    assert.is(await metric(srv.handle, 'nacks'), 1);
    const warnings = srv.logger.records.filter((r) => String(r.msg).includes('SMI5002'));
    assert.is(warnings.length, 1);
    assert.ok(String(warnings[0].msg).length < 1400, `a ${String(warnings[0].msg).length}-character log line`);

    srv.publish([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })]);
    const r2 = await s.next();
    assert.is(r2.resources.length, 2);
    for (let i = 0; i < 200; i++) s.send({ ...nack, responseNonce: r2.nonce });
    assert.ok(await srv.quiet(s, CDS));
    assert.is(await metric(srv.handle, 'responses'), 2);
  } finally {
    await srv.close();
  }
});

test('a client that never ACKs gets one response per type, whatever is published meanwhile; then the latest', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    const first: DecodedSotwResponse[] = [];
    for (const typeUrl of [CDS, EDS, LDS, RDS]) {
      s.send({ node: NODE, typeUrl, resourceNames: typeUrl === EDS ? ['ns/x|80'] : typeUrl === RDS ? ['rds-outbound.80'] : [] });
      first.push(await s.next());
    }
    for (let i = 1; i <= 200; i++) srv.publish([simpleProxy('ns/a', { 'ns/x|80': 100, [`ns/v${i}|80`]: 0 })]);
    assert.ok(await srv.quiet(s, CDS), 'sent while the previous response is unacknowledged');
    assert.is(await metric(srv.handle, 'responses'), 4);
    // The CDS ACK releases exactly one response: the state of the 200th snapshot, not the 1st.
    s.send({ typeUrl: CDS, versionInfo: first[0].versionInfo, responseNonce: first[0].nonce });
    const latest = await s.next();
    assert.is(latest.typeUrl, CDS);
    assert.is(latest.resources.length, 2);
    assert.ok(latest.resources.some((r) => Buffer.from(r.value).includes('ns/v200|80')));
  } finally {
    await srv.close();
  }
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const AdsClient = makeGenericClientConstructor(adsClientDefinition, 'Ads') as any;

test('a slow consumer that ACKs without reading: the server stops at a full write buffer, then sends the latest state', async () => {
  // 40 clusters of ~20 KB each: every response is far bigger than an HTTP/2 flow-control window.
  const big = (n: number) => cluster(`ns/c${n}|80`, { metadata: { filter_metadata: { pad: { v: 'x'.repeat(20_000) } } } });
  const srv = await testServer([proxy('ns/a', { clusters: Array.from({ length: 40 }, (_, i) => big(i)) })]);
  const client = new AdsClient(srv.target, credentials.createInsecure());
  try {
    const call: ClientDuplexStream<SotwRequestInit, DecodedSotwResponse> = client.StreamAggregatedResources();
    const received: DecodedSotwResponse[] = [];
    call.on('data', (r: DecodedSotwResponse) => received.push(r));
    call.on('error', () => {});
    let probes = 0;
    /** Once the server has handled every request written before: a nonce it never sent is logged as stale, in order. */
    const handled = async (c: typeof call): Promise<void> => {
      const nonce = `probe-${++probes}`;
      const from = srv.logger.records.length;
      c.write({ typeUrl: CDS, responseNonce: nonce });
      await srv.logger.waitFor((r) => r.msg === 'stale nonce' && r.nonce === nonce, from);
    };
    /** Once the client has read every response the server has written so far. */
    const receivedAll = async (): Promise<void> => {
      const written = await metric(srv.handle, 'responses');
      while (received.length < written) await once(call, 'data');
    };
    const firstResponse = once(call, 'data');
    call.write({ node: NODE, typeUrl: CDS, resourceNames: ['ns/c0|80'] });
    await firstResponse;
    const [prefix, n0] = received[0].nonce.split('-');
    call.pause(); // stop reading
    // Each request ACKs the response the server just sent (its nonce guessed) and changes the
    // subscription, which asks for a new response: without a bound, 500 responses of ~0.8 MB.
    const all = Array.from({ length: 40 }, (_, i) => `ns/c${i}|80`);
    for (let k = 1; k <= 500; k++) {
      const nonce = `${prefix}-${(parseInt(n0, 36) + k - 1).toString(36)}`;
      call.write({ typeUrl: CDS, responseNonce: nonce, resourceNames: k % 2 ? all : all.slice(0, 20) });
    }
    // The server stops at the full buffer, and has handled all 500 requests.
    await srv.logger.waitFor((r) => String(r.msg).includes('not reading'), 0);
    await handled(call);
    const pushed = await metric(srv.handle, 'responses');
    assert.ok(pushed <= 40, `${pushed} responses queued for a client that reads nothing`);
    // Reading again drains the buffer; then the server answers with what is current. Once the
    // client has everything the server wrote, the drain has happened; a probe handled after it
    // proves that whatever the drain sent is counted too.
    call.resume();
    await receivedAll();
    await handled(call);
    await receivedAll();
    const last = received[received.length - 1];
    assert.is(last.resources.length, 40, 'the last response is the latest subscription (all 40)');
    call.cancel();
  } finally {
    client.close();
    await srv.close();
  }
});

test.run();
