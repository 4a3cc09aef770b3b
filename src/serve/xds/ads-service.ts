/**
 * The `envoy.service.discovery.v3.AggregatedDiscoveryService` gRPC service, built from the
 * protobufjs root that src/envoy/protos.ts loads once per process (no second proto load through
 * @grpc/proto-loader).
 *
 * Requests are decoded with protobufjs. Responses are written by hand from bytes that were
 * encoded once per resource (see snapshot.ts): a `DiscoveryResponse` is a few strings plus the
 * already-encoded `Any`s, so serving 10,000 streams costs a memcpy per resource and response,
 * not a protobuf encode. The field numbers below are those of
 * envoy/service/discovery/v3/discovery.proto; a test checks the output against protobufjs.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { envoyType, protobuf } from '../../envoy/protos.ts';

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const SOTW_METHOD_PATH = `/${SERVICE}/StreamAggregatedResources`;
export const DELTA_METHOD_PATH = `/${SERVICE}/DeltaAggregatedResources`;

// ── Decoded request shapes (protobufjs messages; field names camelCased by protobufjs) ──

export interface NodeMessage {
  readonly id: string;
  readonly cluster: string;
  readonly userAgentName: string;
  readonly clientFeatures: readonly string[];
}

export interface StatusMessage {
  readonly code: number;
  readonly message: string;
}

export interface DiscoveryRequest {
  readonly versionInfo: string;
  readonly node?: NodeMessage | null;
  readonly resourceNames: readonly string[];
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail?: StatusMessage | null;
}

export interface DeltaDiscoveryRequest {
  readonly node?: NodeMessage | null;
  readonly typeUrl: string;
  readonly resourceNamesSubscribe: readonly string[];
  readonly resourceNamesUnsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly responseNonce: string;
  readonly errorDetail?: StatusMessage | null;
}

// ── Outgoing responses, from pre-encoded parts ────────────────────────────

/** What holds an encoded `google.protobuf.Any`: an `EncodedResource` goes out as it is. */
export interface AnyBytes {
  readonly any: Uint8Array;
}

export interface SotwResponse {
  readonly versionInfo: string;
  readonly resources: readonly AnyBytes[];
  readonly typeUrl: string;
  readonly nonce: string;
  readonly controlPlane?: string;
}

export interface DeltaResponse {
  readonly systemVersionInfo: string;
  /** Each an encoded `envoy.service.discovery.v3.Resource`. */
  readonly resources: readonly Uint8Array[];
  readonly typeUrl: string;
  readonly removedResources: readonly string[];
  readonly nonce: string;
  readonly controlPlane?: string;
}

/** Wire tag of a length-delimited field. */
const ld = (field: number): number => (field << 3) | 2;

function writeControlPlane(w: protobuf.Writer, field: number, identifier: string | undefined): void {
  if (!identifier) return;
  // envoy.config.core.v3.ControlPlane { string identifier = 1; }
  w.uint32(ld(field)).fork().uint32(ld(1)).string(identifier).ldelim();
}

/** The control_plane field of a server's responses, encoded once (it is the same on every response). */
const controlPlaneFields = new Map<string, Uint8Array>();

let lastControlPlane: { field: number; identifier: string; bytes: Uint8Array } | undefined;

function controlPlaneField(field: number, identifier: string | undefined): Uint8Array {
  if (!identifier) return new Uint8Array(0);
  // A server asks with the same pair on every response: no key to build then.
  if (lastControlPlane?.identifier === identifier && lastControlPlane.field === field) return lastControlPlane.bytes;
  const key = `${field}\n${identifier}`;
  let bytes = controlPlaneFields.get(key);
  if (!bytes) {
    const w = protobuf.Writer.create();
    writeControlPlane(w, field, identifier);
    bytes = new Uint8Array(w.finish());
    if (controlPlaneFields.size < 16) controlPlaneFields.set(key, bytes);
  }
  lastControlPlane = { field, identifier, bytes };
  return bytes;
}

export function encodeSotwResponse(r: SotwResponse): Buffer {
  return writeSotwResponse(r, (n) => Buffer.allocUnsafe(n));
}

/**
 * Responses up to this size are serialized into one reused buffer (see `serializeSotwResponse`);
 * larger ones get their own, so that one huge response does not pin its size for good.
 */
const SCRATCH_MAX = 1 << 20;
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * What the server's gRPC method serializes responses with: like `encodeSotwResponse`, but into a
 * buffer reused from one response to the next. grpc-js copies the serialized message into its
 * own framed buffer at once (server-interceptors.js `serializeMessage`), so a buffer of our own
 * per response would be garbage: a change to every proxy would allocate every response body twice.
 */
export function serializeSotwResponse(r: SotwResponse): Buffer {
  return writeSotwResponse(r, (n) => {
    if (n > SCRATCH_MAX) return Buffer.allocUnsafe(n);
    if (scratch.byteLength < n) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(n, scratch.byteLength * 2)));
    return scratch.subarray(0, n);
  });
}

const varintLength = (v: number): number => (v < 1 << 7 ? 1 : v < 1 << 14 ? 2 : v < 1 << 21 ? 3 : v < 1 << 28 ? 4 : 5);

function writeVarint(out: Buffer, pos: number, value: number): number {
  let v = value;
  while (v > 127) {
    out[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** A string field: its length on the wire, tag and length prefix included (0 when empty, as proto3 omits it). */
const stringFieldLength = (byteLength: number): number => (byteLength === 0 ? 0 : 1 + varintLength(byteLength) + byteLength);

function writeStringField(out: Buffer, pos: number, field: number, value: string, byteLength: number): number {
  if (byteLength === 0) return pos;
  out[pos++] = ld(field);
  pos = writeVarint(out, pos, byteLength);
  return pos + out.write(value, pos, 'utf8');
}

/**
 * Written by hand, straight from the parts: this runs once per response to every stream. The
 * resources' encoded Anys are shared by every proxy that has them; nothing proxy-sized is built
 * or kept per set (a set's whole response, cached, was one more copy of every proxy's config:
 * 12 MB at 1,000 restrictive services, 2 GB permissive). Fields in field-number order.
 */
function writeSotwResponse(r: SotwResponse, alloc: (n: number) => Buffer): Buffer {
  const controlPlane = controlPlaneField(6, r.controlPlane);
  const versionLength = Buffer.byteLength(r.versionInfo);
  const typeLength = Buffer.byteLength(r.typeUrl);
  const nonceLength = Buffer.byteLength(r.nonce);
  let length = stringFieldLength(versionLength) + stringFieldLength(typeLength) + stringFieldLength(nonceLength) + controlPlane.byteLength;
  for (const { any } of r.resources) length += 1 + varintLength(any.byteLength) + any.byteLength;
  const out = alloc(length);
  let pos = writeStringField(out, 0, 1, r.versionInfo, versionLength);
  for (const { any } of r.resources) {
    out[pos++] = ld(2);
    pos = writeVarint(out, pos, any.byteLength);
    out.set(any, pos);
    pos += any.byteLength;
  }
  pos = writeStringField(out, pos, 4, r.typeUrl, typeLength);
  pos = writeStringField(out, pos, 5, r.nonce, nonceLength);
  out.set(controlPlane, pos);
  return out;
}

export function encodeDeltaResponse(r: DeltaResponse): Buffer {
  const w = protobuf.Writer.create();
  if (r.systemVersionInfo) w.uint32(ld(1)).string(r.systemVersionInfo);
  for (const res of r.resources) w.uint32(ld(2)).bytes(res);
  if (r.typeUrl) w.uint32(ld(4)).string(r.typeUrl);
  if (r.nonce) w.uint32(ld(5)).string(r.nonce);
  for (const name of r.removedResources) w.uint32(ld(6)).string(name);
  writeControlPlane(w, 7, r.controlPlane);
  return Buffer.from(w.finish());
}

/** `google.protobuf.Any { string type_url = 1; bytes value = 2; }` */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32(ld(1)).string(typeUrl).uint32(ld(2)).bytes(value).finish();
}

/** `envoy.service.discovery.v3.Resource { version = 1; resource = 2 (Any); name = 3; }` */
export function encodeDeltaResource(name: string, version: string, any: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32(ld(1)).string(version).uint32(ld(2)).bytes(any).uint32(ld(3)).string(name).finish();
}

// ── Service definitions ───────────────────────────────────────────────────

const types = {
  request: envoyType('envoy.service.discovery.v3.DiscoveryRequest'),
  response: envoyType('envoy.service.discovery.v3.DiscoveryResponse'),
  deltaRequest: envoyType('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
  deltaResponse: envoyType('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
};

function decoder<T>(type: protobuf.Type): (bytes: Buffer) => T {
  return (bytes) => type.decode(bytes) as unknown as T;
}

function encoder(type: protobuf.Type): (value: object) => Buffer {
  return (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

/** What the server registers: requests decoded, responses written from pre-encoded parts. */
export const adsServerDefinition = {
  StreamAggregatedResources: {
    path: SOTW_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encoder(types.request),
    requestDeserialize: decoder<DiscoveryRequest>(types.request),
    // grpc-js copies the result into its own frame before returning: a reused buffer is safe here.
    responseSerialize: serializeSotwResponse,
    responseDeserialize: decoder<SotwResponse>(types.response),
  },
  DeltaAggregatedResources: {
    path: DELTA_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encoder(types.deltaRequest),
    requestDeserialize: decoder<DeltaDiscoveryRequest>(types.deltaRequest),
    responseSerialize: encodeDeltaResponse,
    responseDeserialize: decoder<DeltaResponse>(types.deltaResponse),
  },
} as unknown as ServiceDefinition;

// ── Decoded responses, for raw clients (tests, debugging tools) ───────────

/** protobufjs predefines google.protobuf.Any with its proto field names, so `type_url` stays snake_case. */
export interface AnyMessage {
  readonly type_url: string;
  readonly value: Uint8Array;
}

export interface DecodedSotwResponse {
  readonly versionInfo: string;
  readonly resources: readonly AnyMessage[];
  readonly typeUrl: string;
  readonly nonce: string;
}

export interface DecodedDeltaResponse {
  readonly systemVersionInfo: string;
  readonly resources: readonly { readonly name: string; readonly version: string; readonly resource?: AnyMessage | null }[];
  readonly typeUrl: string;
  readonly removedResources: readonly string[];
  readonly nonce: string;
}

/** What a raw client uses: requests encoded from plain objects, responses decoded. */
export const adsClientDefinition = {
  StreamAggregatedResources: {
    path: SOTW_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encoder(types.request),
    requestDeserialize: decoder<DiscoveryRequest>(types.request),
    responseSerialize: encoder(types.response),
    responseDeserialize: decoder<DecodedSotwResponse>(types.response),
  },
  DeltaAggregatedResources: {
    path: DELTA_METHOD_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encoder(types.deltaRequest),
    requestDeserialize: decoder<DeltaDiscoveryRequest>(types.deltaRequest),
    responseSerialize: encoder(types.deltaResponse),
    responseDeserialize: decoder<DecodedDeltaResponse>(types.deltaResponse),
  },
} as unknown as ServiceDefinition;
