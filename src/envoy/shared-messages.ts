/**
 * proto3 JSON → protobufjs message, remembering the conversion of every frozen sub-object.
 *
 * Emit builds a proxy's resources from frozen objects it shares between proxies and across
 * recompiles (filter chains, virtual hosts, cluster parts, typed configs). protobufjs's
 * `protojson.fromJson` converts a whole resource every time, and that conversion, not the
 * encoding after it, is most of the cost of encoding a snapshot. Here a message-typed field
 * whose value is a frozen object is converted once per (type, object) within a snapshot build
 * (one `SharedMessages`) and the result reused; everything else (scalars, enums, maps,
 * well-known types, anything not frozen) still goes through `protojson.fromJson`, which does all the checking, so the result
 * encodes to the very bytes `protojson.fromJson` gives (shared-messages.test.ts holds them to it
 * over every resource the goldens and the benchmark meshes produce), and bad input throws the
 * same way. The converted messages are only ever encoded, never modified.
 */
import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import type { Json } from '../shared/json.ts';

type FieldIndex = Readonly<Record<string, protobuf.Field>>;

const isPlainObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value that holds a frozen object (itself, or an element): worth converting apart. */
const holdsFrozen = (v: unknown): boolean => (Array.isArray(v) ? v.some(holdsFrozen) : isPlainObject(v) && Object.isFrozen(v));

/**
 * The messages converted for one snapshot build, owned by whoever encodes it (the server's
 * resource interner, per build; the compile worker, per reply) and dropped with it. A message is
 * as big as its JSON: kept across builds, the initial snapshot's would stay in memory until the
 * next recompile. Within a build, the resources of a change share most of their parts (the new
 * cluster and filter chain of every caller).
 */
export class SharedMessages {
  /** Converted messages by type and object. */
  private readonly converted = new Map<protobuf.Type, WeakMap<object, protobuf.Message>>();
  private readonly indexes = new Map<protobuf.Type, FieldIndex>();
  private readonly wellKnown = new Map<protobuf.Type, boolean>();

  /** The message for `json` of `type`; frozen objects are converted once. */
  fromJson(type: protobuf.Type, json: unknown): protobuf.Message {
    if (!isPlainObject(json) || !Object.isFrozen(json)) return this.convert(type, json);
    let byObject = this.converted.get(type);
    if (!byObject) this.converted.set(type, (byObject = new WeakMap()));
    let message = byObject.get(json);
    if (!message) byObject.set(json, (message = this.convert(type, json)));
    return message;
  }

  /** Fields by every name proto3 JSON may use for them (proto name, json name, protobufjs name). */
  private fieldIndex(type: protobuf.Type): FieldIndex {
    let index = this.indexes.get(type);
    if (!index) {
      const out: Record<string, protobuf.Field> = Object.create(null);
      for (const f of type.fieldsArray) {
        const field = f.resolve();
        for (const name of [field.name, (field as { jsonName?: string }).jsonName, (field as { protoName?: string }).protoName]) {
          if (name !== undefined) out[name] = field;
        }
      }
      this.indexes.set(type, (index = out));
    }
    return index;
  }

  /** protobufjs works `fullName` out on every read, walking the parents: asked once per type. */
  private isWellKnown(type: protobuf.Type): boolean {
    let known = this.wellKnown.get(type);
    if (known === undefined) this.wellKnown.set(type, (known = type.fullName.startsWith('.google.protobuf.')));
    return known;
  }

  private convert(type: protobuf.Type, json: unknown): protobuf.Message {
    // Converting field by field costs a message object per node; only worth it where a field
    // holds a frozen object to remember. Anything else converts in one go.
    if (!isPlainObject(json) || this.isWellKnown(type) || !Object.values(json).some(holdsFrozen)) return protojson.fromJson(type, json);
    const index = this.fieldIndex(type);
    const rest: Json = {};
    const nested: [protobuf.Field, unknown][] = [];
    for (const key of Object.keys(json)) {
      const value = json[key];
      const field = index[key];
      const messageType = field && !field.map && field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
      if (messageType && field.repeated && Array.isArray(value) && value.every(isPlainObject)) {
        nested.push([field, value.map((v) => this.fromJson(messageType, v))]);
      } else if (messageType && !field.repeated && isPlainObject(value)) {
        nested.push([field, this.fromJson(messageType, value)]);
      } else {
        rest[key] = value; // protojson converts it, and reports it if it is wrong
      }
    }
    const message = protojson.fromJson(type, rest) as protobuf.Message & Record<string, unknown>;
    // What protojson checks across fields, for the fields converted here (a message's own keys
    // include every repeated field, set or not: what was set is what `rest` named).
    const seen = new Set<string>();
    const oneofs = new Set<string>();
    for (const key of Object.keys(rest)) {
      const field = index[key];
      if (!field) continue;
      seen.add(field.name);
      if (field.partOf && rest[key] !== null) oneofs.add(field.partOf.name); // null sets nothing
    }
    for (const [field, value] of nested) {
      if (seen.has(field.name)) throw new Error(`invalid value for ${type.fullName}: ${JSON.stringify(field.name)} (duplicate field)`);
      seen.add(field.name);
      if (field.partOf) {
        if (oneofs.has(field.partOf.name)) throw new Error(`${type.fullName}: multiple values for oneof ${field.partOf.name}`);
        oneofs.add(field.partOf.name);
      }
      message[field.name] = value;
    }
    return message;
  }
}
