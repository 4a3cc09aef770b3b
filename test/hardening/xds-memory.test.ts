/**
 * One hostile ADS client against a real `smi-compile serve` process (no --ca, as an
 * unauthenticated xDS port in a cluster would be): the attacks of issue 15 and their relatives
 * within the name-length bound. Each attack's stream ends with INVALID_ARGUMENT or
 * RESOURCE_EXHAUSTED after a bounded number of requests; the server's peak RSS (VmHWM) stays
 * far under the deploy's 512 MiB limit; the bytes it holds for clients go back to 0; and a
 * well-behaved stream on another connection keeps being served throughout.
 *
 * Before the bounds, the first attack took a server from 149 to 822 MiB (200 delta requests of
 * one new 3.5 MB name each) and the second added 280 MiB (100,000 names on 16 invented types).
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adsClientDefinition } from '../../src/serve/xds/ads-service.ts';
import { MAX_REQUEST_BYTES, MAX_RESOURCE_NAME_LENGTH, MAX_STREAMS_PER_CONNECTION } from '../../src/serve/ops/limits.ts';
import { RawAdsClient, type DeltaRequestInit, type SotwRequestInit } from '../../src/serve/xds/raw-client.ts';
import { CDS, EDS, KNOWN_UNSERVED, PUSH_ORDER } from '../../src/serve/xds/type-urls.ts';
import { runServeChild, type ServeChild } from './serve-child.ts';

const ACCEPTED = [...PUSH_ORDER, ...KNOWN_UNSERVED];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE = { id: 'bookbuyer/bookbuyer' };
const MiB = 1024 * 1024;
/** deploy/deployment.yaml's memory limit. */
const DEPLOY_LIMIT = 512 * MiB;
/**
 * What all the attacks together may add to the server's peak RSS: the bounds let one connection
 * hold 32 MiB as counted, plus gRPC's buffers of partly received requests and the garbage of
 * decoding 4 MiB requests before they are refused.
 */
const ATTACK_BUDGET = 192 * MiB;
const ROUNDS = Number(process.env.ATTACK_ROUNDS ?? 2);
/**
 * The server runs with the heap limit Node gives itself in the deploy's container: Node sizes
 * V8's heap from the cgroup's memory limit (nodejs/node#27508), and V8 makes the old generation
 * a quarter of it, times two on 64-bit (heap.cc `HeapSizeFromPhysicalMemory`): 256 MB of 512 MiB.
 * On this 24 GiB machine it would otherwise allow itself 4 GB and collect the attacks' garbage
 * (decoded requests, the responses listing their names as removed) much later.
 */
const DEPLOY_HEAP = ['--max-old-space-size=256'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const AdsClient = makeGenericClientConstructor(adsClientDefinition, 'Ads') as any;

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(/^(\w+):\s+(\d+) kB/m.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[2] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

interface Outcome {
  code: number | undefined;
  details: string;
  /** Requests handed to the transport before the stream ended. */
  written: number;
}

/**
 * Writes requests one at a time on one stream (each once the previous is on its way, so the
 * client never builds more than one) until the server ends the stream. `next` makes request i
 * from the nonce of the last response. With `answered`, each request waits for the server's
 * answer (a delta subscription to names that do not exist is answered with them as removed),
 * and the stream is cancelled after the last; else the server must end the stream.
 */
async function attack<R>(call: ClientDuplexStream<R, unknown>, count: number, next: (i: number, nonce: string) => R, answered = false): Promise<Outcome> {
  let status: ServiceError | undefined;
  const ended = new Promise<void>((resolve) => {
    call.on('error', (e: ServiceError) => {
      status = e;
      resolve();
    });
    call.on('end', () => resolve());
  });
  const responses: { nonce: string }[] = [];
  let wake: (() => void) | undefined;
  call.on('data', (r: unknown) => {
    responses.push(r as { nonce: string });
    wake?.();
  });
  let written = 0;
  for (let i = 0; i < count && !status; i++) {
    const seen = responses.length;
    await Promise.race([ended, new Promise<void>((resolve) => call.write(next(i, responses.at(-1)?.nonce ?? ''), () => resolve()))]);
    if (status) break;
    written += 1;
    if (answered) while (responses.length === seen && !status) await Promise.race([ended, new Promise<void>((resolve) => (wake = resolve))]);
  }
  if (!answered && !status) {
    // A request every server ends the stream for (no type_url): the end to wait for, had the
    // requests above not been refused.
    call.write({ typeUrl: '' } as R);
    await ended;
  }
  call.cancel();
  return { code: status?.code, details: status?.details ?? '', written };
}

/** `count` distinct names of `length` characters, distinct per `tag`. */
const names = (tag: string, count: number, length: number): string[] => Array.from({ length: count }, (_, i) => `${tag}-${i}-`.padEnd(length, 'x'));

type Connect = () => { DeltaAggregatedResources(): ClientDuplexStream<DeltaRequestInit, unknown>; StreamAggregatedResources(): ClientDuplexStream<SotwRequestInit, unknown> };

interface Round {
  outcomes: Record<'3.5 MB names' | 'names at the length bound' | 'invented types' | 'accepted types', Outcome>;
  many: Outcome[];
}

/** The attacks, each on a connection of its own (`fresh`), the last with every stream one connection may open. */
async function attacks(fresh: Connect): Promise<Round> {
  const first = (i: number) => (i === 0 ? { node: NODE } : {});
  // Each request ≈ 3.8 MB of 2,048-character names: just under MAX_REQUEST_BYTES.
  const perRequest = Math.floor((MAX_REQUEST_BYTES * 0.9) / (MAX_RESOURCE_NAME_LENGTH + 3));
  const outcomes = {
    // Issue 15: delta requests each subscribing one new 3.5 MB name.
    '3.5 MB names': await attack(fresh().DeltaAggregatedResources(), 200, (i) => ({ ...first(i), typeUrl: CDS, resourceNamesSubscribe: [`${i}`.padEnd(3_500_000, 'n')] })),
    // The same within the name bound.
    'names at the length bound': await attack(fresh().DeltaAggregatedResources(), 200, (i) => ({ ...first(i), typeUrl: EDS, resourceNamesSubscribe: names(`r${i}`, perRequest, MAX_RESOURCE_NAME_LENGTH) })),
    // Issue 15: 100,000 names on each of 16 invented type URLs.
    'invented types': await attack(fresh().StreamAggregatedResources(), 16, (i) => ({ ...first(i), typeUrl: `type.example/invented-${i}`, resourceNames: names(`t${i}`, 100_000, 12) })),
    // The same on the eleven types that are accepted (five served, six answered empty).
    'accepted types': await attack(fresh().StreamAggregatedResources(), 11, (i) => ({ ...first(i), typeUrl: ACCEPTED[i], resourceNames: names(`t${i}`, 100_000, 12) })),
  };
  // Every stream one connection may open, each staying under the per-stream bound (3 × 1,000 names
  // of 2,048 characters ≈ 12.5 MiB as counted), each request answered before the next.
  const shared = fresh();
  const many = await Promise.all(
    Array.from({ length: MAX_STREAMS_PER_CONNECTION }, (_, s) =>
      attack(shared.DeltaAggregatedResources(), 3, (i, nonce) => ({ ...first(i), typeUrl: EDS, resourceNamesSubscribe: names(`c${s}-${i}`, 1000, MAX_RESOURCE_NAME_LENGTH), responseNonce: nonce }), true),
    ),
  );
  return { outcomes, many };
}

async function metric(serve: ServeChild, name: string): Promise<number> {
  const text = await (await serve.admin('/metrics')).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

test('one hostile client cannot take the server\'s memory; a well-behaved stream on another connection keeps working', async () => {
  const serve = await runServeChild([join(ROOT, 'fixtures/bookstore')], { nodeArgs: DEPLOY_HEAP });
  const target = `127.0.0.1:${serve.port}`;
  const good = new RawAdsClient(target);
  const clients: { close(): void }[] = [good];
  const fresh: Connect = () => {
    // A channel of its own: its own HTTP/2 connection.
    const c = new AdsClient(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    clients.push(c);
    return c;
  };
  try {
    const wellBehaved = good.sotw();
    wellBehaved.send({ node: NODE, typeUrl: CDS });
    const cds = await wellBehaved.next(10_000);
    assert.ok(cds.resources.length > 0);
    wellBehaved.send({ typeUrl: CDS, versionInfo: cds.versionInfo, responseNonce: cds.nonce });
    const before = memory(serve.pid);
    // Twice: the second round runs in what the first left (V8's grown heap) and must not add to it much.
    const rounds: Round[] = [];
    const peaks: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push(await attacks(fresh));
      peaks.push(memory(serve.pid).peak);
    }
    const after = memory(serve.pid);
    const summary = JSON.stringify({ rounds: rounds.map((r) => ({ ...r, many: r.many.map((o) => [o.code, o.written]) })), rssBefore: before.rss / MiB, peaks: peaks.map((p) => p / MiB), rssAfter: after.rss / MiB });
    console.log(summary);

    for (const { outcomes, many } of rounds) {
      assert.equal([outcomes['3.5 MB names'].code, outcomes['3.5 MB names'].written], [3, 1], summary);
      assert.match(outcomes['3.5 MB names'].details, `at most ${MAX_RESOURCE_NAME_LENGTH}`);
      assert.is(outcomes['names at the length bound'].code, 8, summary);
      assert.ok(outcomes['names at the length bound'].written <= 3, summary);
      assert.equal([outcomes['invented types'].code, outcomes['invented types'].written], [3, 1], summary);
      assert.match(outcomes['invented types'].details, 'not an xDS resource type');
      assert.is(outcomes['accepted types'].code, 8, summary);
      assert.ok(outcomes['accepted types'].written <= 2, summary);
      // Three streams' 12.5 MiB pass the connection's 32: all but two at most are ended, by the
      // connection's bound, none of them having passed its own.
      const refused = many.filter((o) => o.code !== undefined);
      assert.ok(refused.length >= MAX_STREAMS_PER_CONNECTION - 2, summary);
      assert.ok(refused.every((o) => o.code === 8 && o.details.includes('connection')), summary);
    }

    assert.ok(after.peak - before.rss < ATTACK_BUDGET, `the attacks added ${((after.peak - before.rss) / MiB).toFixed(0)} MiB to the peak: ${summary}`);
    assert.ok(after.peak < DEPLOY_LIMIT, summary);
    // Everything held for the attackers was given back; their streams are gone from the books.
    assert.is(await metric(serve, 'smi_xds_client_held_bytes'), 0);
    assert.is(await metric(serve, 'smi_xds_streams'), 1);
    assert.is(await metric(serve, 'smi_xds_rejected_streams_total{reason="stream-bytes"}'), 2 * ROUNDS);
    const connectionRefusals = rounds.reduce((n, r) => n + r.many.filter((o) => o.code === 8).length, 0);
    assert.is(await metric(serve, 'smi_xds_rejected_streams_total{reason="connection-bytes"}'), connectionRefusals);

    // The well-behaved stream, on its own connection, was never cut off and is still answered.
    wellBehaved.send({ typeUrl: EDS, resourceNames: ['bookstore/bookstore-v1|14001'] });
    const eds = await wellBehaved.next(10_000);
    assert.is(eds.typeUrl, EDS);
    const s2 = good.sotw();
    s2.send({ node: NODE, typeUrl: CDS });
    assert.is((await s2.next(10_000)).resources.length, cds.resources.length);
  } finally {
    for (const c of clients) c.close();
    await serve.stop();
  }
});

test(`the xDS port tells clients ${MAX_STREAMS_PER_CONNECTION} concurrent streams per connection`, async () => {
  const serve = await runServeChild([join(ROOT, 'fixtures/bookstore')]);
  const session = connect(`http://127.0.0.1:${serve.port}`);
  try {
    const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    assert.is(settings.maxConcurrentStreams, MAX_STREAMS_PER_CONNECTION);
  } finally {
    session.destroy();
    await serve.stop();
  }
});

test.run();
