import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protojson from 'protobufjs/ext/protojson.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh, writeMesh } from '../../bench/generate-mesh.ts';
import { compilePaths } from '../compiler/compile.ts';
import { TYPE_URL, XDS_KINDS, type EnvoyResource } from '../emit/types.ts';
import { encodeProtoJson, encodeProtoJsonAny, envoyType, protobuf } from './protos.ts';
import { SharedMessages } from './shared-messages.ts';

function resourcesOf(paths: string[], options = {}): [string, EnvoyResource][] {
  const r = compilePaths(paths, { protoCheck: false, stableObjects: true, ...options });
  assert.ok(r.ok, 'compiles');
  const seen = new Set<object>();
  const out: [string, EnvoyResource][] = [];
  for (const p of r.proxies) {
    for (const kind of XDS_KINDS) {
      for (const json of p.resources[kind] ?? []) {
        if (seen.has(json)) continue;
        seen.add(json);
        out.push([TYPE_URL[kind], json]);
      }
    }
  }
  return out;
}

const withoutType = ({ '@type': _t, ...rest }: EnvoyResource): Record<string, unknown> => rest;

function sameBytes(resources: [string, EnvoyResource][]): number {
  const messages = new SharedMessages(); // one for all, as a snapshot build shares one
  for (const [typeUrl, json] of resources) {
    const type = envoyType(typeUrl);
    const expected = Buffer.from(type.encode(protojson.fromJson(type, withoutType(json))).finish());
    // Twice: the second conversion reuses what the first remembered.
    for (let i = 0; i < 2; i++) {
      const actual = Buffer.from(type.encode(messages.fromJson(type, withoutType(json))).finish());
      if (!actual.equals(expected)) assert.unreachable(`${typeUrl} ${JSON.stringify(json).slice(0, 200)}: bytes differ`);
    }
  }
  return resources.length;
}

test('every resource of every fixture encodes to the bytes protojson gives', () => {
  const n = sameBytes(['bookstore', 'bookstore-permissive', 'canary', 'tcp-mysql', 'multi-port', 'headless-statefulset'].flatMap((f) => resourcesOf([`fixtures/${f}`])));
  assert.ok(n > 100, `${n} resources`);
});

test('and so does every resource of a generated mesh, restrictive and permissive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-shared-messages-'));
  try {
    writeMesh(generateMesh({ services: 40, namespaces: 3, permissive: false }), join(dir, 'r'));
    writeMesh(generateMesh({ services: 12, namespaces: 2, permissive: true }), join(dir, 'p'));
    const n = sameBytes([...resourcesOf([join(dir, 'r')]), ...resourcesOf([join(dir, 'p')])]);
    assert.ok(n > 500, `${n} resources`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encodeProtoJsonAny: the Any of encodeProtoJson\'s bytes, in an ArrayBuffer of its own and of its size', () => {
  const resources = ['bookstore', 'bookstore-permissive', 'canary'].flatMap((f) => resourcesOf([`fixtures/${f}`]));
  for (const [typeUrl, json] of resources) {
    const expected = Buffer.from(protobuf.Writer.create().uint32(10).string(typeUrl).uint32(18).bytes(encodeProtoJson(typeUrl, json)).finish());
    const any = encodeProtoJsonAny(typeUrl, json);
    if (!Buffer.from(any).equals(expected)) assert.unreachable(`${typeUrl} ${JSON.stringify(json).slice(0, 200)}: bytes differ`);
    // Not a slice of a shared pool: keeping it keeps nothing else alive.
    assert.is(any.byteOffset, 0);
    assert.is(any.buffer.byteLength, any.byteLength);
  }
  assert.throws(() => encodeProtoJsonAny('type.googleapis.com/envoy.config.cluster.v3.Cluster', { name: 'c', noSuchField: 1 }));
});

test('a frozen sub-object is converted once; bad input still throws, frozen or not', () => {
  const cluster = envoyType('envoy.config.cluster.v3.Cluster');
  const messages = new SharedMessages();
  const messageFromJson = messages.fromJson.bind(messages);
  const timeout = Object.freeze({ seconds: 5 });
  const lb = Object.freeze({ cluster_name: 'x', endpoints: Object.freeze([]) });
  const a = messageFromJson(cluster, { name: 'a', load_assignment: lb, connect_timeout: '5s' }) as unknown as Record<string, unknown>;
  const b = messageFromJson(cluster, { name: 'b', load_assignment: lb }) as unknown as Record<string, unknown>;
  assert.ok(a.loadAssignment === b.loadAssignment || a.load_assignment === b.load_assignment, 'the same converted message');
  void timeout;
  assert.throws(() => messageFromJson(cluster, { name: 'a', load_assignment: Object.freeze({ cluster_name: 'x', bogus: 1 }) }), /bogus/);
  assert.throws(() => messageFromJson(cluster, { name: 'a', load_assignment: { cluster_name: 'x', bogus: 1 } }), /bogus/);
  // Two members of one oneof, both messages (cluster_discovery_type: type / cluster_type).
  assert.throws(() => messageFromJson(cluster, { name: 'a', type: 'EDS', cluster_type: { name: 'c' } }), /oneof/);
  assert.throws(() => messageFromJson(cluster, { name: 'a', loadAssignment: lb, load_assignment: lb }), /duplicate/);
});

test('each SharedMessages remembers its own conversions only: a new build converts afresh', () => {
  const cluster = envoyType('envoy.config.cluster.v3.Cluster');
  const lb = Object.freeze({ cluster_name: 'x', endpoints: Object.freeze([]) });
  const loadAssignment = (m: protobuf.Message) => (m as unknown as Record<string, unknown>).loadAssignment;
  const first = new SharedMessages();
  const a = loadAssignment(first.fromJson(cluster, { name: 'a', load_assignment: lb }));
  assert.ok(a !== undefined);
  assert.is(loadAssignment(first.fromJson(cluster, { name: 'b', load_assignment: lb })), a);
  assert.is.not(loadAssignment(new SharedMessages().fromJson(cluster, { name: 'c', load_assignment: lb })), a);
});

test.run();
