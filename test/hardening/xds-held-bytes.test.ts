/**
 * Byte-heavy subscriptions of random shapes against the streams' byte accounting (limits.ts
 * `HeldBytes`): state-of-the-world and delta streams, several on one connection, subscribing,
 * unsubscribing, declaring versions, ACKing and NACKing with long names and messages. After
 * every request:
 *
 * - what a stream counts as held equals what its state holds, recounted from its contents (no
 *   drift between `hold` and `release`, whatever the order of events);
 * - no stream holds more than MAX_STREAM_HELD_BYTES, no connection more than
 *   MAX_CONNECTION_HELD_BYTES, and the connection's count is its streams' sum;
 * - a stream whose subscriptions alone pass the bound has been ended with RESOURCE_EXHAUSTED, and
 *   none is ended with it while everything it could hold fits; INVALID_ARGUMENT only for a name
 *   over MAX_RESOURCE_NAME_LENGTH;
 *
 * and once every stream is closed, the connection ledger is empty.
 *
 * The streams run in this process against a fake call (requests are handled synchronously, so no
 * waiting), with a fixed seed (FC_SEED and FC_RUNS override it).
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeltaStream } from '../../src/serve/xds/delta-stream.ts';
import { ConnectionLedger, declaredVersionBytes, MAX_CONNECTION_HELD_BYTES, MAX_ECHOED_CHARS, MAX_RESOURCE_NAME_LENGTH, MAX_STREAM_HELD_BYTES, stringBytes, subscriptionBytes } from '../../src/serve/ops/limits.ts';
import { memoryLogger } from '../../src/serve/ops/logger.ts';
import { XdsMetrics } from '../../src/serve/ops/metrics.ts';
import { buildSnapshot } from '../../src/serve/snapshot/snapshot.ts';
import { ResourceInterner } from '../../src/serve/snapshot/interner.ts';
import { SotwStream } from '../../src/serve/xds/sotw-stream.ts';
import { sentResource } from '../../src/serve/xds/type-state.ts';
import type { AnyStream, StreamHost } from '../../src/serve/xds/stream-core.ts';
import { FakeCall, simpleProxy } from '../../src/serve/testing.ts';
import { meshFlavours } from '../../src/serve/flavours/mesh-flavours.ts';
import { KNOWN_UNSERVED, PUSH_ORDER } from '../../src/serve/xds/type-urls.ts';

const SEED = Number(process.env.FC_SEED ?? 20261207);
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 40;
const TYPES = [...PUSH_ORDER, ...KNOWN_UNSERVED];
const PEER = '127.0.0.1:40000';

let streamIds = 0;

function host(ledger: ConnectionLedger): StreamHost {
  const interner = new ResourceInterner();
  const { snapshot } = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })], interner);
  return {
    current: () => snapshot,
    interner,
    logger: memoryLogger('error'),
    metrics: new XdsMetrics({ processMetrics: false }),
    controlPlane: 'test',
    flavours: meshFlavours(interner),
    streamId: () => `s${++streamIds}`,
    attach: () => {},
    detach: () => {},
    connections: ledger,
  };
}

/** What a stream's state holds, recounted from its contents with limits.ts's cost model. */
function recount(stream: AnyStream): number {
  let bytes = 0;
  for (const t of stream.types) {
    for (const n of t.names) bytes += subscriptionBytes(n);
    for (const [name, entry] of t.sent) if (!sentResource(entry)) bytes += declaredVersionBytes(name, entry.version);
    if (t.lastError) bytes += stringBytes(t.lastError);
  }
  return bytes;
}

/** `count` distinct names of `length` characters (some two-byte), some of them names the snapshot has. */
function names(tag: string, count: number, length: number, wide: boolean): string[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 50 === 7) return 'ns/x|80';
    const head = `${tag}-${i}-`;
    return head + (wide ? '界' : 'x').repeat(Math.max(0, length - head.length));
  });
}

const lengthArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 80 }) },
  { weight: 10, arbitrary: fc.integer({ min: 500, max: MAX_RESOURCE_NAME_LENGTH }) },
  { weight: 1, arbitrary: fc.constant(MAX_RESOURCE_NAME_LENGTH + 1) },
);
const opArb = fc.record({
  stream: fc.integer({ min: 0, max: 2 }),
  type: fc.integer({ min: 0, max: TYPES.length - 1 }),
  kind: fc.constantFrom('subscribe', 'subscribe', 'subscribe', 'unsubscribe', 'ack', 'nack'),
  count: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 3, arbitrary: fc.integer({ min: 500, max: 2500 }) }),
  length: lengthArb,
  wide: fc.boolean(),
  declare: fc.record({ count: fc.integer({ min: 0, max: 300 }), length: lengthArb, version: fc.integer({ min: 1, max: 20_000 }) }),
  message: fc.integer({ min: 0, max: 3 * MAX_ECHOED_CHARS }),
});
const scenarioArb = fc.record({
  protocols: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  ops: fc.array(opArb, { minLength: 12, maxLength: 40, size: 'max' }),
});

interface Model {
  /** Names each type is subscribed to, as the client sees it. */
  subscribed: Map<string, Set<string>>;
  /** Every declared version (an upper bound: the server forgets them as it sends). */
  declaredBytes: number;
  seen: Set<string>;
}

const modelBytes = (m: Model): number => {
  let bytes = 0;
  for (const set of m.subscribed.values()) for (const n of set) bytes += subscriptionBytes(n);
  return bytes;
};

test('held bytes: counted exactly, bounded per stream and per connection, refused with the right status, released on close', () => {
  let scenarios = 0;
  let exhausted = 0;
  let invalid = 0;
  let connectionBound = 0;
  fc.assert(
    fc.property(scenarioArb, ({ protocols, ops }) => {
      const ledger = new ConnectionLedger();
      const h = host(ledger);
      const calls = protocols.map(() => new FakeCall(PEER));
      const streams: AnyStream[] = protocols.map((delta, i) => (delta ? new DeltaStream(h, calls[i] as never) : new SotwStream(h, calls[i] as never)));
      const models: Model[] = protocols.map(() => ({ subscribed: new Map(), declaredBytes: 0, seen: new Set() }));
      ops.forEach((op, k) => {
        const i = op.stream;
        const call = calls[i];
        if (call.ended) return;
        const delta = protocols[i];
        const model = models[i];
        const typeUrl = TYPES[op.type];
        const first = model.seen.size === 0;
        const firstOfType = !model.seen.has(typeUrl);
        const subscribed = model.subscribed.get(typeUrl) ?? new Set<string>();
        const fresh = names(`${k}`, op.count, op.length, op.wide);
        const node = first ? { node: { id: 'ns/a' } } : {};
        let longName = false;
        if (op.kind === 'ack' || op.kind === 'nack') {
          if (firstOfType) return;
          const nonce = call.lastNonce(typeUrl);
          const errorDetail = op.kind === 'nack' ? { code: 3, message: 'e'.repeat(op.message) } : undefined;
          call.emit('data', delta
            ? { ...node, typeUrl, resourceNamesSubscribe: [], resourceNamesUnsubscribe: [], initialResourceVersions: {}, responseNonce: nonce, errorDetail }
            : { ...node, typeUrl, versionInfo: '', resourceNames: [...subscribed], responseNonce: nonce, errorDetail });
        } else if (delta) {
          const declared = firstOfType ? names(`d${k}`, op.declare.count, op.declare.length, false) : [];
          const version = 'v'.repeat(op.declare.version);
          const unsubscribe = op.kind === 'unsubscribe' ? [...subscribed].slice(0, Math.ceil(subscribed.size / 2)) : [];
          const subscribe = op.kind === 'subscribe' ? fresh : [];
          longName = [...subscribe, ...unsubscribe, ...declared].some((n) => n.length > MAX_RESOURCE_NAME_LENGTH);
          call.emit('data', { ...node, typeUrl, resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe, initialResourceVersions: Object.fromEntries(declared.map((n) => [n, version])), responseNonce: '' });
          if (!longName) {
            for (const n of unsubscribe) subscribed.delete(n);
            for (const n of subscribe) subscribed.add(n);
            for (const n of declared) model.declaredBytes += declaredVersionBytes(n, version);
          }
        } else {
          // SotW: the request's names are the subscription (an unsubscribe keeps half of them).
          const next = op.kind === 'unsubscribe' ? [...subscribed].slice(0, Math.floor(subscribed.size / 2)) : [...subscribed, ...fresh];
          longName = next.some((n) => n.length > MAX_RESOURCE_NAME_LENGTH);
          call.emit('data', { ...node, typeUrl, versionInfo: '', resourceNames: next, responseNonce: call.lastNonce(typeUrl) });
          if (!longName) {
            subscribed.clear();
            for (const n of next) subscribed.add(n);
          }
        }
        model.seen.add(typeUrl);
        model.subscribed.set(typeUrl, subscribed);

        const stream = streams[i];
        const ended = call.ended as { code: number; details: string } | undefined;
        if (ended) {
          const { code, details } = ended;
          if (code === 3) {
            assert.ok(longName, `INVALID_ARGUMENT without a long name: ${details}`);
            invalid += 1;
          } else {
            assert.is(code, 8, `ended with ${code}: ${details}`);
            // Everything this stream could hold: subscriptions, every declared version, three-type error messages.
            const most = modelBytes(model) + model.declaredBytes + TYPES.length * stringBytes('e'.repeat(MAX_ECHOED_CHARS + 40));
            const others = streams.reduce((n, s, j) => n + (j !== i && s.isOpen ? s.held : 0), 0);
            if (details.includes('connection')) {
              connectionBound += 1;
              assert.ok(most + others > MAX_CONNECTION_HELD_BYTES, `refused for the connection with ${most} + ${others} bytes at most`);
            } else assert.ok(most > MAX_STREAM_HELD_BYTES, `refused with ${most} bytes at most: ${details}`);
            exhausted += 1;
          }
          return;
        }
        assert.not.ok(longName, 'a name over the limit was accepted');
        assert.is(stream.held, recount(stream), 'counted = held');
        assert.ok(stream.held <= MAX_STREAM_HELD_BYTES);
        assert.ok(modelBytes(model) <= MAX_STREAM_HELD_BYTES, `subscriptions of ${modelBytes(model)} bytes accepted`);
        const open = streams.filter((s) => s.isOpen && s.held > 0);
        assert.is(ledger.total(), open.reduce((n, s) => n + s.held, 0), 'the connection is the sum of its streams');
        assert.ok(ledger.total() <= MAX_CONNECTION_HELD_BYTES);
      });
      for (const c of calls) c.emit('cancelled');
      assert.is(ledger.total(), 0);
      assert.is(ledger.size, 0);
      scenarios += 1;
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  // The generator must reach every outcome, or the property says little.
  assert.ok(exhausted > 0 && invalid > 0 && connectionBound > 0, `runs ${scenarios}: RESOURCE_EXHAUSTED ${exhausted} (connection ${connectionBound}), INVALID_ARGUMENT ${invalid}`);
});

test.run();
