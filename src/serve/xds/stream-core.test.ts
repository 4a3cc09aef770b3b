/**
 * The stream core on its own: a fake gRPC call, a host with a hand-made snapshot, and the
 * state-of-the-world stream as the simplest protocol on top of it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DiscoveryRequest, SotwResponse } from './ads-service.ts';
import type { Flavours } from './flavour.ts';
import { meshFlavours } from '../flavours/mesh-flavours.ts';
import { ResourceInterner } from '../snapshot/interner.ts';
import { memoryLogger } from '../ops/logger.ts';
import { XdsMetrics } from '../ops/metrics.ts';
import { buildSnapshot } from '../snapshot/snapshot.ts';
import type { Snapshot } from '../snapshot/snapshot-types.ts';
import { SotwStream } from './sotw-stream.ts';
import type { AnyStream, StreamHost } from './stream-core.ts';
import { FakeCall, simpleProxy } from '../testing.ts';
import { CDS, EDS, LDS, RDS } from './type-urls.ts';
import type { ProxyConfig } from '../../emit/types.ts';

interface Harness {
  readonly host: StreamHost;
  readonly call: FakeCall<SotwResponse>;
  readonly stream: SotwStream;
  readonly awaiting: boolean[];
  readonly attached: AnyStream[];
  publish(configs: ProxyConfig[]): void;
  request(typeUrl: string, names?: string[], extra?: Partial<DiscoveryRequest>): void;
  /** ACK (or, with `error`, NACK) the last response of `typeUrl`. */
  answer(typeUrl: string, error?: string): void;
  types(): string[];
}

function harness(configs: ProxyConfig[], flavours?: (interner: ResourceInterner) => Flavours): Harness {
  const interner = new ResourceInterner();
  let snapshot: Snapshot | undefined = buildSnapshot(configs, interner).snapshot;
  const awaiting: boolean[] = [];
  const attached: AnyStream[] = [];
  let ids = 0;
  const host: StreamHost = {
    current: () => snapshot,
    interner,
    logger: memoryLogger('debug'),
    metrics: new XdsMetrics({ processMetrics: false }),
    controlPlane: 'test',
    flavours: (flavours ?? meshFlavours)(interner),
    streamId: () => `t${++ids}`,
    attach: (s) => attached.push(s),
    detach: (s) => attached.splice(attached.indexOf(s), 1),
    awaiting: (_s, waiting) => awaiting.push(waiting),
  };
  const call = new FakeCall<SotwResponse>();
  const stream = new SotwStream(host, call as never);
  const node = { id: configs[0]?.nodeId ?? 'ns/a', userAgentName: 'envoy' };
  const h: Harness = {
    host,
    call,
    stream,
    awaiting,
    attached,
    publish(next) {
      snapshot = buildSnapshot(next, interner).snapshot;
      stream.onSnapshot();
    },
    request(typeUrl, names = [], extra = {}) {
      call.emit('data', { versionInfo: '', node, resourceNames: names, typeUrl, responseNonce: '', ...extra });
    },
    answer(typeUrl, error) {
      const last = [...call.responses].reverse().find((r) => r.typeUrl === typeUrl)!;
      h.request(typeUrl, typeUrl === EDS || typeUrl === RDS ? (last.resources as unknown as { name: string }[]).map((r) => r.name) : [], {
        versionInfo: error ? '' : last.versionInfo,
        responseNonce: last.nonce,
        ...(error ? { errorDetail: { code: 3, message: error } } : {}),
      });
    },
    types: () => call.responses.map((r) => r.typeUrl),
  };
  return h;
}

const A = (clusters: Record<string, number>): ProxyConfig => simpleProxy('ns/a', clusters);

test('the first request must name a workload of the snapshot', () => {
  const h = harness([A({ 'ns/x|80': 100 })]);
  h.call.emit('data', { versionInfo: '', node: { id: 'ns/nobody' }, resourceNames: [], typeUrl: CDS, responseNonce: '' });
  assert.is(h.call.ended?.code, 5, 'NOT_FOUND');
  assert.match(h.call.ended!.details, /no workload ns\/nobody .*workloads in namespace ns: ns\/a/);
  const bad = harness([A({ 'ns/x|80': 100 })]);
  bad.call.emit('data', { versionInfo: '', node: { id: 'not a node id' }, resourceNames: [], typeUrl: CDS, responseNonce: '' });
  assert.is(bad.call.ended?.code, 3, 'INVALID_ARGUMENT');
  assert.equal(bad.attached, []);
});

test('a type URL nobody defined closes the stream; a stream gets the host\'s id and is attached once identified', () => {
  const h = harness([A({ 'ns/x|80': 100 })]);
  assert.is(h.stream.id, 't1');
  h.request('type.googleapis.com/no.such.Type');
  assert.is(h.call.ended?.code, 3);
  assert.equal(h.attached, [], 'closed again: detached');
  const ok = harness([A({ 'ns/x|80': 100 })]);
  ok.request(CDS);
  assert.equal(ok.attached, [ok.stream]);
  assert.is(ok.stream.nodeId, 'ns/a');
});

test('one response in flight per type, and a change waiting behind it blocks the types after it', () => {
  const h = harness([A({ 'ns/x|80': 100 })]);
  h.request(CDS);
  h.request(RDS, ['rds-outbound.80']);
  assert.equal(h.types(), [CDS, RDS]);
  assert.equal(h.awaiting, [true], 'waiting for ACKs from the first response on');
  // A new cluster and a route to it, while CDS is still in flight: nothing goes.
  h.publish([A({ 'ns/x|80': 50, 'ns/y|80': 50 })]);
  assert.equal(h.types(), [CDS, RDS]);
  h.answer(RDS);
  assert.equal(h.types(), [CDS, RDS], 'RDS is free, but its change waits behind the cluster it routes to');
  h.answer(CDS);
  assert.equal(h.types(), [CDS, RDS, CDS, RDS], 'the cluster first, then the route to it, each in one coalesced response');
  assert.is(h.call.responses[2].resources.length, 2);
  h.answer(CDS);
  h.answer(RDS);
  const n = h.awaiting.length;
  h.answer(RDS); // a repeated ACK changes nothing
  assert.is(h.awaiting.length, n);
  assert.equal(h.awaiting, [true, false, true, false], 'the host hears when the stream starts and stops waiting, not every response');
});

test('a NACK is recorded and the rejected state is not sent again; the next change is', () => {
  const h = harness([A({ 'ns/x|80': 100 })]);
  h.request(CDS);
  h.answer(CDS, 'bad cluster');
  const cds = h.stream.types.find((t) => t.typeUrl === CDS)!;
  assert.ok(cds.nacked);
  assert.is(cds.nacks, 1);
  assert.is(cds.lastError, 'bad cluster');
  h.stream.onSnapshot();
  assert.is(h.call.responses.length, 1, 'not resent');
  h.publish([A({ 'ns/x|80': 50, 'ns/y|80': 50 })]);
  assert.is(h.call.responses.length, 2);
  h.answer(CDS);
  assert.not.ok(cds.nacked);
  assert.is(cds.acks, 1);
});

test('a stale nonce is ignored whole, subscription included', () => {
  const h = harness([A({ 'ns/x|80': 100 })]);
  h.request(EDS, ['ns/x|80']);
  h.request(EDS, ['ns/x|80', 'ns/y|80'], { responseNonce: 'an-old-nonce' });
  const eds = h.stream.types.find((t) => t.typeUrl === EDS)!;
  assert.equal([...eds.names], ['ns/x|80']);
  assert.is(h.call.responses.length, 1);
});

test('the flavour comes from the host: its node rule, its names rule, its views (once per snapshot)', () => {
  let views = 0;
  const flavours = (interner: ResourceInterner): Flavours => {
    const real = meshFlavours(interner);
    return {
      ofNode: () => undefined,
      looksProxyless: (typeUrl, names) => typeUrl === LDS && [...names].includes('grpc-target:80'),
      view: (flavour, snapshot, proxy) => {
        views += 1;
        return real.view(flavour, snapshot, proxy);
      },
    };
  };
  const h = harness([A({ 'ns/x|80': 100 })], flavours);
  h.request(CDS);
  assert.is(h.stream.flavour, undefined);
  h.answer(CDS);
  h.stream.onSnapshot();
  assert.is(views, 1, 'one view per snapshot, flavour and proxy');
  h.request(LDS, ['grpc-target:80']);
  assert.is(h.stream.flavour, 'proxyless');
  assert.is(views, 2, 'a new flavour, a new view');
});

test('an ACK that leaves nothing to send does not evaluate the stream again', () => {
  let gets = 0;
  const flavours = (interner: ResourceInterner): Flavours => {
    const real = meshFlavours(interner);
    return {
      ...real,
      view: (flavour, snapshot, proxy) => {
        const v = real.view(flavour, snapshot, proxy);
        return { ...v, set: undefined, get: (t, n) => (gets++, v.get(t, n)), all: (t) => (gets++, v.all(t)) };
      },
    };
  };
  const h = harness([A({ 'ns/x|80': 100 })], flavours);
  h.request(CDS);
  h.request(EDS, ['ns/x|80']);
  h.answer(CDS);
  h.answer(EDS);
  const settled = gets;
  h.answer(EDS); // a repeated ACK of the same snapshot
  assert.is(gets, settled);
});

test('close tells the host once: detached, nothing awaited any more', () => {
  const h = harness([A({ 'ns/x|80': 100 })]);
  h.request(CDS);
  h.call.emit('end');
  h.call.emit('cancelled');
  assert.equal(h.attached, []);
  assert.equal(h.awaiting, [true, false]);
  assert.not.ok(h.stream.isOpen);
});

test.run();
