/**
 * The real Envoy v3 protos, as shipped in @grpc/grpc-js-xds's `deps/`, loaded once per
 * process. Emit checks every resource against them; serve encodes with them.
 *
 * Parsing the .proto files is slow; `envoy-protos.bundle.json` holds the same definitions
 * already parsed (protobufjs JSON, written by `npm run protos:bundle`) and loads in about half
 * the time. The bundle names the @grpc/grpc-js-xds and protobufjs versions it was made from;
 * with any other version installed it is ignored and the .proto files are parsed, and a test
 * fails until the bundle is regenerated.
 */
import { accessSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import { SharedMessages } from './shared-messages.ts';
export { SharedMessages } from './shared-messages.ts';

const require = createRequire(import.meta.url);
const XDS_DEPS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const PROTOBUFJS_ROOT = dirname(require.resolve('protobufjs/package.json'));
const INCLUDE_DIRS = [
  join(XDS_DEPS, 'envoy-api'),
  join(XDS_DEPS, 'xds'),
  join(XDS_DEPS, 'googleapis'),
  join(XDS_DEPS, 'protoc-gen-validate'),
  PROTOBUFJS_ROOT, // google/protobuf/*.proto
];

/** Every message type smi-compile emits or packs into an Any, and the xDS service messages. */
const ENTRY_PROTOS = [
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/secret/v3/sds.proto',
  // `compile --format config-dump` and serve's /debug/config_dump: what Envoy's admin /config_dump gives.
  'envoy/admin/v3/config_dump.proto',
];

function resolveInclude(_origin: string, target: string): string {
  for (const dir of INCLUDE_DIRS) {
    const candidate = join(dir, target);
    try {
      accessSync(candidate);
      return candidate;
    } catch {
      // not in this include dir
    }
  }
  return target;
}

/** Parses the .proto files (what the bundle saves). */
export function loadProtoFiles(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = resolveInclude;
  root.loadSync(ENTRY_PROTOS);
  root.resolveAll();
  return root;
}

export const BUNDLE_FILE = new URL('./envoy-protos.bundle.json', import.meta.url);

interface Bundle {
  readonly sources: Record<string, string>;
  readonly root: protobuf.INamespace;
}

/** The package versions the protos come from: a bundle made from others is not used. */
function bundleSources(): Record<string, string> {
  const versionOf = (pkg: string) => (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  return { '@grpc/grpc-js-xds': versionOf('@grpc/grpc-js-xds'), protobufjs: versionOf('protobufjs') };
}

/** The bundle's text for a root parsed from the .proto files. */
export function bundleText(root: protobuf.Root): string {
  const bundle: Bundle = { sources: bundleSources(), root: root.toJSON({ keepComments: false }) as protobuf.INamespace };
  return `${JSON.stringify(bundle)}\n`;
}

function loadBundle(): protobuf.Root | undefined {
  let bundle: Bundle;
  try {
    bundle = JSON.parse(readFileSync(BUNDLE_FILE, 'utf8')) as Bundle;
  } catch {
    return undefined;
  }
  if (JSON.stringify(bundle.sources) !== JSON.stringify(bundleSources())) return undefined;
  const root = protobuf.Root.fromJSON(bundle.root);
  root.resolveAll();
  return root;
}

let cached: protobuf.Root | undefined;

export function envoyRoot(): protobuf.Root {
  cached ??= withLeanCodecs(loadBundle() ?? loadProtoFiles());
  return cached;
}

/**
 * protobufjs generates five functions for a message type the first time one of them is called
 * (`Type#setup`: encode, decode, verify, fromObject, toObject), each compiled by V8 on the spot.
 * Checking and serving emitted resources only ever encodes and decodes (protojson reads and
 * writes JSON itself), so each type here gets just its encoder and decoder, generated by the
 * same protobufjs functions with the same arguments `setup` passes them, on first use, and the
 * three unused functions of each type cost no code generation or compiling. A caller of `fromObject`, `toObject` or
 * `verify` still reaches `setup`, which then makes all five (and replaces these two with equal ones).
 */
function withLeanCodecs(root: protobuf.Root): protobuf.Root {
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) installLazyCodecs(obj);
      if (obj instanceof protobuf.Namespace) visit(obj);
    }
  };
  visit(root);
  return root;
}

type Encode = protobuf.Type['encode'];
type Decode = protobuf.Type['decode'];

function installLazyCodecs(type: protobuf.Type): void {
  const make = (): void => {
    type.root.resolveAll(); // done at load; what `setup` makes sure of first
    const types = type.fieldsArray.map((field) => field.resolve().resolvedType);
    type.encode = (protobuf.encoder(type) as (scope: object) => Encode)({ Writer: protobuf.Writer, types, util: protobuf.util });
    type.decode = (protobuf.decoder(type) as (scope: object) => Decode)({ Reader: protobuf.Reader, types, util: protobuf.util, C: type.ctor });
  };
  // Every argument passed on: the generated functions take more than the declared two (depth, group tag).
  type.encode = ((...args: unknown[]) => (make(), (type.encode as (...a: unknown[]) => protobuf.Writer)(...args))) as Encode;
  type.decode = ((...args: unknown[]) => (make(), (type.decode as (...a: unknown[]) => protobuf.Message)(...args))) as Decode;
}

/**
 * protobufjs works a type's `fullName` out on every read, walking its parents, and protojson
 * reads it for every message it converts. The root never
 * changes once loaded, so each name is worked out once and kept on the object.
 */
let pinned = false;
function pinFullNames<T extends protobuf.NamespaceBase>(ns: T): T {
  const pin = (obj: protobuf.ReflectionObject): void => {
    Object.defineProperty(obj, 'fullName', { value: obj.fullName, configurable: true });
  };
  for (const obj of ns.nestedArray) {
    pin(obj);
    // protojson passes each field's full name along with every value it reads (for its errors).
    if (obj instanceof protobuf.Type) for (const field of obj.fieldsArray) pin(field);
    if (obj instanceof protobuf.Namespace) pinFullNames(obj);
  }
  return ns;
}

/** A message type by fully qualified name or `type.googleapis.com/...` URL. */
export function envoyType(nameOrTypeUrl: string): protobuf.Type {
  const name = nameOrTypeUrl.replace(/^type\.googleapis\.com\//, '');
  return envoyRoot().lookupType(name);
}

function withoutTypeField(json: unknown): object {
  if (json && typeof json === 'object' && '@type' in json) {
    const { '@type': _ignored, ...rest } = json as Record<string, unknown>;
    return rest;
  }
  return json as object;
}

/**
 * proto3 JSON → wire bytes of the message. Throws when the JSON does not fit the proto. Frozen
 * sub-objects are converted once and remembered in `messages` (shared-messages.ts): pass the
 * build's when encoding many resources that share parts.
 */
export function encodeProtoJson(typeUrl: string, json: unknown, messages = new SharedMessages()): Uint8Array {
  if (!pinned) pinned = pinFullNames(envoyRoot()) !== undefined; // where protojson runs, not for every process that loads the protos
  const type = envoyType(typeUrl);
  return type.encode(messages.fromJson(type, withoutTypeField(json))).finish();
}

/**
 * A Writer whose result has an ArrayBuffer of its own, of its exact size. protobufjs's default
 * Writer returns a slice of Node's shared 8 KB allocation pool: a kept slice pins its whole slab,
 * garbage beside it included, and a snapshot build keeps slices alive (the converted messages'
 * Any values) among the slabs of every resource it encodes: a 250-service permissive mesh ended
 * its build holding 376 MiB of ArrayBuffers for 47 MiB of resources.
 */
class OwnedWriter extends protobuf.BufferWriter {
  static override alloc = (size: number): Uint8Array => Buffer.allocUnsafeSlow(size);
}

/**
 * proto3 JSON → wire bytes of a `google.protobuf.Any` holding the message (what xDS responses
 * carry), encoded in one pass into bytes of their own: what the xDS server keeps for as long as
 * a snapshot uses the resource. Throws as `encodeProtoJson` does, and remembers in `messages` as it does.
 */
export function encodeProtoJsonAny(typeUrl: string, json: unknown, messages = new SharedMessages()): Uint8Array {
  if (!pinned) pinned = pinFullNames(envoyRoot()) !== undefined;
  const type = envoyType(typeUrl);
  const message = messages.fromJson(type, withoutTypeField(json));
  // google.protobuf.Any { string type_url = 1; bytes value = 2; }: the value is written in place, length-delimited.
  const writer = new OwnedWriter();
  writer.uint32(10).string(typeUrl).uint32(18).fork();
  type.encode(message, writer);
  return writer.ldelim().finish();
}

/** Wire bytes → proto3 JSON (camelCase, as protojson prints it). */
export function decodeToProtoJson(typeUrl: string, bytes: Uint8Array): unknown {
  const type = envoyType(typeUrl);
  return protojson.toJson(type, type.decode(bytes));
}

export { protobuf, protojson };
