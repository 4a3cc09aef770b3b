/**
 * Every emitted resource must be a valid Envoy message: read with the real Envoy protos
 * (protobufjs protojson: unknown fields, wrong types, out-of-range numbers, unknown enum
 * values and unknown `@type`s in Anys all fail), encoded, decoded, and re-encoded to the same
 * bytes. A failure is a compiler bug, reported as SMI9001 `proto-encode`, never thrown.
 *
 * Doing that naively costs ~100 µs a resource, and a large mesh has millions (every proxy
 * gets a cluster per service it may call). Three caches make it proportional to what is
 * actually new, without trusting anything that was not encoded:
 *
 * 1. per object: proxies share most resources (session.ts), and a resource object that was
 *    checked is not checked again;
 * 2. per sub-object: a piece from `shared()` (a shared TLS context, a filter, a virtual host, a
 *    principal) is judged on its own the first time it is met, and once proven valid as its
 *    message type it is replaced by `{}`, the empty message, valid for every type. Only those:
 *    remembering an object that one resource alone reaches costs a weak-table entry that is
 *    never used (each cluster's TLS context is one caller's);
 * 3. per skeleton: whether a message is valid does not depend on the text of its string
 *    fields (any well-formed string is a valid `string`), so those are replaced by a
 *    placeholder and each distinct skeleton is encoded once. The clusters `a|80` and `b|80`
 *    have one skeleton; so do the same cluster for two different callers.
 *
 * Well-formedness of every replaced string (no lone UTF-16 surrogate, which protojson would
 * reject) is still checked, on the real value.
 */
import { diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import { envoyType, protobuf, protojson } from '../envoy/protos.ts';
import { TYPE } from './names.ts';
import { resourceName, TYPE_URL, XDS_KINDS, type ProxyConfig } from './types.ts';
import type { Json } from '../shared/json.ts';

const VALID = Symbol('valid');
const MAX_SKELETONS = 100_000;

/** What the check knows of the objects `shared()` handed out (the EmitSession). */
export interface SharedProofs {
  sharedProof(obj: object): string | ReadonlySet<string> | undefined;
  recordProof(obj: object, typeName: string): void;
}

/** What the check keeps between resources: one per EmitSession (session.ts). */
export class ProtoCheckCache {
  /** Verdict per checked resource object: VALID, or why it does not encode (one lookup answers both). */
  readonly verdicts = new WeakMap<object, string | typeof VALID>();
  /** Verdict per skeleton (type name + skeleton in its compact spelling). Bounded: starts afresh when full. */
  skeletons = new Map<string, string | typeof VALID>();
  /** Objects already reported to a reporter, so a shared broken resource is reported once, not once per proxy. */
  readonly reported = new WeakMap<Reporter, WeakSet<object>>();
  readonly messages = new WeakMap<protobuf.Type, Message>();
  readonly typesByUrl = new Map<string, UrlInfo | null>();

  constructor(readonly proofs: SharedProofs) {}
}

/** Stands in for every non-empty string field; '' stays '' (it is the field's default). */
const STRING_PLACEHOLDER = 's';

// ── Reflection helpers (protobufjs recomputes names and lookups on every call) ──

/**
 * A message type as the walk needs it, worked out once per type and reached from its fields
 * (FieldInfo.message), so visiting a value costs no lookup of its type's name or fields.
 */
interface Message {
  readonly type: protobuf.Type;
  /** The full name, `.envoy.config.listener.v3.Listener`. */
  readonly name: string;
  /** Its fields by every name proto3 JSON accepts, indexed on first use. */
  fields: Map<string, FieldInfo> | undefined;
}

function messageOf(cache: ProtoCheckCache, type: protobuf.Type): Message {
  let message = cache.messages.get(type);
  if (!message) cache.messages.set(type, (message = { type, name: type.fullName, fields: undefined }));
  return message;
}

/** What the walk needs of a field, worked out once per field. */
interface FieldInfo {
  /** The JSON key as written, quoted, and a colon (the skeleton keeps the caller's spelling). */
  readonly quoted: string;
  /** The same in the compact spelling: a number for this spelling of this field of this type, and a colon. */
  readonly token: string;
  /** The message type of a message field (or of a map's values). */
  readonly message: Message | undefined;
  /** A plain `string` field: its text does not decide validity. */
  readonly isString: boolean;
  readonly map: boolean;
  readonly stringKeys: boolean;
  readonly repeated: boolean;
}

/** A message's fields by every name proto3 JSON accepts (snake_case as in Envoy's docs, lowerCamel). */
function fieldIndex(cache: ProtoCheckCache, message: Message): Map<string, FieldInfo> {
  let index = message.fields;
  if (!index) {
    index = new Map();
    let tokens = 0;
    for (const field of message.type.fieldsArray) {
      field.resolve();
      for (const name of [field.name, field.jsonName, (field as { protoName?: string }).protoName]) {
        if (!name) continue;
        index.set(name, {
          quoted: `${JSON.stringify(name)}:`,
          token: `${tokens++}:`, // unique per entry, whichever entry a name ends with
          message: field.resolvedType instanceof protobuf.Type ? messageOf(cache, field.resolvedType) : undefined,
          isString: field.type === 'string' && !field.resolvedType,
          map: field.map,
          stringKeys: field instanceof protobuf.MapField && field.keyType === 'string',
          repeated: field.repeated,
        });
      }
    }
    message.fields = index;
  }
  return index;
}

interface UrlInfo {
  readonly message: Message;
  /** The URL's compact spelling, `@<n>`. */
  readonly token: string;
}

/** The message type a type URL names, or null when the protos have no such type (protojson then says so). */
function urlInfo(cache: ProtoCheckCache, typeUrl: string): UrlInfo | null {
  let info = cache.typesByUrl.get(typeUrl);
  if (info === undefined) {
    try {
      info = { message: messageOf(cache, envoyType(typeUrl)), token: `@${cache.typesByUrl.size}` };
    } catch {
      info = null;
    }
    cache.typesByUrl.set(typeUrl, info);
  }
  return info;
}

// ── Skeletons ───────────────────────────────────────────────────────────────

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * No unpaired UTF-16 surrogate: the one thing that makes a JS string an invalid proto `string`
 * (protojson validateUtf16). `String.prototype.isWellFormed` (ES2024, in Node 20) answers
 * exactly that, natively and without a scan for the one-byte strings almost every field is.
 */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

const PLACEHOLDER_JSON = JSON.stringify(STRING_PLACEHOLDER);

/**
 * A skeleton is spelled two ways. The compact spelling is the cache key, made for every message
 * checked: field names become per-type numbers and Any type URLs `@<n>`, so the text to build and
 * hash is a fraction of the JSON (a cluster's ≈ 400 characters). It is injective: given the
 * message type, each number names one spelling of one field, and everything else is as in the
 * JSON. The JSON spelling is what protojson reads, made only for a skeleton not seen before.
 */
interface Walk {
  readonly cache: ProtoCheckCache;
  /** Set when a value has no exact JSON text (NaN, a bigint, ...): the skeleton cannot stand in for it. */
  inexact: boolean;
  /** Spell it as JSON (to encode it), not compactly (to look it up). */
  readonly json: boolean;
}

const compactWalk = (cache: ProtoCheckCache): Walk => ({ cache, inexact: false, json: false });
const jsonWalk = (cache: ProtoCheckCache): Walk => ({ cache, inexact: false, json: true });

/** The JSON text of a value the walk passes through untouched, so protojson judges it exactly as written. */
function literal(value: unknown, walk: Walk): string {
  // Most literals are ports, counts and flags: their JSON text is their string form.
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return String(value);
    walk.inexact = true;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    walk.inexact = true;
    return 'null';
  }
  return text;
}

const ANY = '.google.protobuf.Any';

/**
 * The skeleton of `value` read as `type`, as JSON text (which is also its cache key): shared
 * sub-objects valid as their type become `{}`, string fields become the placeholder, map keys
 * become `k0, k1, ...`, and the elements of a repeated field are deduplicated (each element is
 * read on its own, so `[a, b, a]` is valid exactly when `[a, b]` is). Anything the walk does
 * not understand (unknown fields, wrong JSON types, well-known types with their own JSON forms)
 * is passed through untouched.
 */
function skeleton(message: Message, value: unknown, walk: Walk): string {
  if (!isObject(value)) return literal(value, walk);
  if (message.name === ANY) {
    const typeUrl = value['@type'];
    const inner = typeof typeUrl === 'string' ? urlInfo(walk.cache, typeUrl) : null;
    if (!inner) return literal(value, walk);
    const proof = walk.cache.proofs.sharedProof(value);
    return proof === undefined ? anySkeleton(inner, typeUrl as string, value, walk) : sharedSkeleton(message, value, proof, walk);
  }
  if (message.name.startsWith('.google.protobuf.')) return literal(value, walk);
  const proof = walk.cache.proofs.sharedProof(value);
  return proof === undefined ? `{${skeletonOfFields(message, value, walk)}}` : sharedSkeleton(message, value, proof, walk);
}

/** An Any's skeleton: its `@type` as written, then the fields of the type it names. */
function anySkeleton(inner: UrlInfo, typeUrl: string, value: Json, walk: Walk): string {
  const body = skeletonOfFields(inner.message, value, walk, '@type');
  const head = walk.json ? `"@type":${JSON.stringify(typeUrl)}` : inner.token;
  return body === '' ? `{${head}}` : `{${head},${body}}`;
}

/** A message's own skeleton (an Any's with its `@type`), whether or not it is shared. */
function spelled(message: Message, value: Json, walk: Walk): string {
  return message.name === ANY ? anySkeleton(urlInfo(walk.cache, value['@type'] as string)!, value['@type'] as string, value, walk) : `{${skeletonOfFields(message, value, walk)}}`;
}

/**
 * A sub-object from `shared()` is judged on its own, as a message of its field's type, the
 * first time the walk meets it; once valid it is `{}` in every skeleton that holds it. So a
 * parent's skeleton does not depend on which of its shared parts happened to be met before
 * (they are always `{}`), and the many resources that differ only in which shared parts they
 * point to (every principal, route action and filter of a mesh) have one skeleton, encoded once.
 * Validity is compositional (protojson reads, and protobuf encodes, a field's message the same
 * wherever it sits), which is what lets `{}` stand for it. One that is not valid stays spelled
 * out, so its parent fails too and is reported, with the real resource's own error.
 */
function sharedSkeleton(message: Message, value: Json, proof: string | ReadonlySet<string>, walk: Walk): string {
  const typeName = message.name;
  if (proof === typeName || (typeof proof === 'object' && proof.has(typeName))) return '{}';
  // Spelling a skeleton out as JSON follows a compact walk that judged this object already: not valid.
  if (walk.json) return spelled(message, value, walk);
  const own = compactWalk(walk.cache);
  const text = spelled(message, value, own);
  if (judge(message, text, own, () => value, () => spelled(message, value, jsonWalk(walk.cache))) === undefined) {
    walk.cache.proofs.recordProof(value, typeName);
    return '{}';
  }
  if (own.inexact) walk.inexact = true;
  return text;
}

/**
 * Why a message of `type` whose compact skeleton is `text` is not valid, undefined when it is:
 * from the skeleton cache, else by encoding the skeleton spelled as JSON (`asJson()`). A
 * skeleton that cannot stand in for the message (`walk.inexact`) is not used: the real message
 * (`real()`) is encoded instead.
 */
function judge(message: Message, text: string, walk: Walk, real: () => unknown, asJson: () => string): string | undefined {
  if (walk.inexact) return encodeProblem(message.type, real());
  const key = `${message.name}\u0000${text}`;
  const cache = walk.cache;
  const known = cache.skeletons.get(key);
  if (known !== undefined) return known === VALID ? undefined : known;
  const problem = encodeProblem(message.type, JSON.parse(asJson()));
  if (cache.skeletons.size >= MAX_SKELETONS) cache.skeletons = new Map();
  cache.skeletons.set(key, problem ?? VALID);
  return problem;
}

function skeletonOfFields(message: Message, value: Json, walk: Walk, skip?: string): string {
  const index = fieldIndex(walk.cache, message);
  let out = '';
  for (const key in value) {
    if (key === skip) continue;
    const fieldValue = value[key];
    if (fieldValue === undefined) continue; // as JSON.stringify: an undefined property is absent
    const field = index.get(key);
    let text: string;
    if (!field) {
      text = `${JSON.stringify(key)}:${literal(fieldValue, walk)}`; // a quote: never taken for a compact field number
    } else if (field.map && isObject(fieldValue)) {
      const entries: string[] = [];
      const seen = new Set<string>();
      for (const k in fieldValue) {
        if (fieldValue[k] === undefined) continue;
        const entry = skeletonOfValue(field, fieldValue[k], walk);
        if (field.stringKeys && isWellFormed(k)) {
          if (seen.has(entry)) continue;
          seen.add(entry);
          entries.push(`"k${entries.length}":${entry}`);
        } else {
          entries.push(`${JSON.stringify(k)}:${entry}`);
        }
      }
      text = `${walk.json ? field.quoted : field.token}{${entries.join(',')}}`;
    } else if (field.repeated && Array.isArray(fieldValue)) {
      text = `${walk.json ? field.quoted : field.token}[${repeatedSkeleton(field, fieldValue, walk)}]`;
    } else {
      text = `${walk.json ? field.quoted : field.token}${skeletonOfValue(field, fieldValue, walk)}`;
    }
    out = out === '' ? text : `${out},${text}`;
  }
  return out;
}

/** The distinct skeletons of a repeated field's elements, in first-seen order. */
function repeatedSkeleton(field: FieldInfo, elements: readonly unknown[], walk: Walk): string {
  if (elements.length === 1) return elements[0] === undefined ? 'null' : skeletonOfValue(field, elements[0], walk);
  const distinct = new Set<string>();
  for (const element of elements) distinct.add(element === undefined ? 'null' : skeletonOfValue(field, element, walk));
  return [...distinct].join(',');
}

function skeletonOfValue(field: FieldInfo, value: unknown, walk: Walk): string {
  if (field.message) return skeleton(field.message, value, walk);
  if (field.isString && typeof value === 'string' && isWellFormed(value)) return value === '' ? '""' : PLACEHOLDER_JSON;
  return literal(value, walk); // numbers, bools, enums, bytes, malformed strings: their values decide validity
}

// ── Encoding ────────────────────────────────────────────────────────────────

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Read with protojson, encode, decode, re-encode: undefined when all of it works and agrees. */
function encodeProblem(type: protobuf.Type, json: unknown): string | undefined {
  try {
    const bytes = type.encode(protojson.fromJson(type, json as object) as protobuf.Message).finish();
    const again = type.encode(type.decode(bytes)).finish();
    return sameBytes(bytes, again) ? undefined : 'decoding and re-encoding changes the bytes';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function withoutType(json: Json): Json {
  const { '@type': _url, ...body } = json;
  return body;
}

/** Why `json` is not a valid message of `typeUrl`, or undefined when it is. Cached per object. */
export function protoProblem(cache: ProtoCheckCache, typeUrl: string, json: object): string | undefined {
  const known = cache.verdicts.get(json);
  if (known !== undefined) return known === VALID ? undefined : known;
  const message = urlInfo(cache, typeUrl)?.message;
  let problem: string | undefined;
  if (!message) {
    problem = `no such type: ${typeUrl}`;
  } else {
    const walk = compactWalk(cache);
    const shape = `{${skeletonOfFields(message, json as Json, walk, '@type')}}`;
    const asJson = () => `{${skeletonOfFields(message, json as Json, jsonWalk(cache), '@type')}}`;
    problem = judge(message, shape, walk, () => withoutType(json as Json), asJson);
    // Say what is wrong in terms of the real resource, not its skeleton.
    if (problem !== undefined) problem = encodeProblem(message.type, withoutType(json as Json)) ?? problem;
  }
  cache.verdicts.set(json, problem ?? VALID);
  return problem;
}

// ── Reporting ───────────────────────────────────────────────────────────────

function report(cache: ProtoCheckCache, reporter: Reporter, subject: object, typeName: string, name: string, detail: string): void {
  let seen = cache.reported.get(reporter);
  if (!seen) cache.reported.set(reporter, (seen = new WeakSet()));
  if (seen.has(subject)) return;
  seen.add(subject);
  reporter.report(diagnostic('proto-encode', { typeName, name, detail }));
}

/** Checks every resource of the proxy (and its bootstrap) against the Envoy protos; problems become SMI9001 diagnostics. */
export function checkProtos(cache: ProtoCheckCache, proxy: ProxyConfig, reporter: Reporter): void {
  for (const kind of XDS_KINDS) {
    const expected = TYPE_URL[kind];
    const typeName = expected.replace(/^type\.googleapis\.com\//, '');
    for (const resource of proxy.resources[kind]) {
      const problem =
        resource['@type'] !== expected
          ? `@type is ${String(resource['@type'])}, but ${kind} must be ${expected}`
          : protoProblem(cache, expected, resource);
      if (problem !== undefined) {
        report(cache, reporter, resource, typeName, `${resourceName(resource)} (proxy ${proxy.nodeId})`, problem);
      }
    }
  }
  const problem = protoProblem(cache, TYPE.bootstrap, proxy.bootstrap);
  if (problem !== undefined) {
    report(cache, reporter, proxy.bootstrap, 'envoy.config.bootstrap.v3.Bootstrap', `bootstrap (proxy ${proxy.nodeId})`, problem);
  }
}
