/**
 * A bare ADS client: sends exactly the requests it is told to and queues what comes back.
 * Tests use it to play a misbehaving or a delta-speaking proxy; it is also handy for poking a
 * running server by hand.
 */
import { credentials, makeGenericClientConstructor, type ChannelCredentials, type ChannelOptions, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { decodeToProtoJson } from '../../envoy/protos.ts';
import {
  adsClientDefinition,
  type AnyMessage,
  type DecodedDeltaResponse,
  type DecodedSotwResponse,
} from './ads-service.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const AdsClient = makeGenericClientConstructor(adsClientDefinition, 'AggregatedDiscoveryService') as any;

export interface RawStream<Req, Res> {
  send(req: Req): void;
  /** The next response, or an error after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Res>;
  /** Resolves with the next response, or undefined if none arrives within `ms`. */
  maybeNext(ms: number): Promise<Res | undefined>;
  /** The status the server ended the stream with, once it has. */
  ended(): Promise<ServiceError | undefined>;
  close(): void;
}

export interface SotwRequestInit {
  versionInfo?: string;
  node?: { id: string; userAgentName?: string };
  resourceNames?: string[];
  typeUrl: string;
  responseNonce?: string;
  errorDetail?: { code: number; message: string };
}

export interface DeltaRequestInit {
  node?: { id: string; userAgentName?: string };
  typeUrl: string;
  resourceNamesSubscribe?: string[];
  resourceNamesUnsubscribe?: string[];
  initialResourceVersions?: Record<string, string>;
  responseNonce?: string;
  errorDetail?: { code: number; message: string };
}

function wrap<Req, Res>(call: ClientDuplexStream<Req, Res>, taken: () => void): RawStream<Req, Res> {
  const queue: Res[] = [];
  const waiters: ((r: Res) => void)[] = [];
  let endedWith: ServiceError | undefined;
  let done = false;
  const endWaiters: ((e: ServiceError | undefined) => void)[] = [];
  call.on('data', (r: Res) => {
    const w = waiters.shift();
    if (w) w(r);
    else queue.push(r);
  });
  const finish = (e?: ServiceError): void => {
    if (done) return;
    done = true;
    endedWith = e;
    for (const w of endWaiters.splice(0)) w(e);
  };
  call.on('error', (e: ServiceError) => finish(e));
  call.on('end', () => finish(undefined));
  const take = (ms: number): Promise<Res | undefined> =>
    new Promise((resolve) => {
      const q = queue.shift();
      if (q !== undefined) {
        taken();
        return resolve(q);
      }
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(deliver), 1);
        resolve(undefined);
      }, ms);
      const deliver = (r: Res): void => {
        clearTimeout(timer);
        taken();
        resolve(r);
      };
      waiters.push(deliver);
    });
  return {
    send: (req) => call.write(req),
    async next(timeoutMs = 2000) {
      const r = await take(timeoutMs);
      if (r === undefined) throw new Error(`no response within ${timeoutMs} ms${endedWith ? ` (stream ended: ${endedWith.message})` : ''}`);
      return r;
    },
    maybeNext: (ms) => take(ms),
    ended: () => (done ? Promise.resolve(endedWith) : new Promise((resolve) => endWaiters.push(resolve))),
    close: () => call.cancel(),
  };
}

export class RawAdsClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly client: any;
  /** Responses handed to the caller so far (next, maybeNext), over all of this client's streams. */
  received = 0;
  /** Plaintext by default; pass TLS credentials (with a client certificate) for a server run with a CA. */
  constructor(target: string, creds: ChannelCredentials = credentials.createInsecure(), options: ChannelOptions = {}) {
    this.client = new AdsClient(target, creds, options);
  }
  sotw(): RawStream<SotwRequestInit, DecodedSotwResponse> {
    return wrap(this.client.StreamAggregatedResources(), () => this.received++);
  }
  delta(): RawStream<DeltaRequestInit, DecodedDeltaResponse> {
    return wrap(this.client.DeltaAggregatedResources(), () => this.received++);
  }
  close(): void {
    this.client.close();
  }
}

/** An Any from a response as proto3 JSON (camelCase field names, as protojson prints them). */
export function decodeAny(any: AnyMessage): Record<string, unknown> {
  return decodeToProtoJson(any.type_url, any.value) as Record<string, unknown>;
}

/** `name` of a decoded Listener, Cluster, RouteConfiguration or `clusterName` of a ClusterLoadAssignment. */
export function nameOfAny(any: AnyMessage): string {
  const json = decodeAny(any);
  return String(json.name ?? json.clusterName ?? '');
}
