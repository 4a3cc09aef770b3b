/**
 * A `compile -o` tree as wire bytes, for the go-control-plane peer (bench/peers/go-control-plane):
 * each proxy's resources, read from its YAML files, encoded with the Envoy protos the server
 * encodes with (`encodeProtoJson`, src/envoy/protos.ts), and each type's version computed as the
 * server computes it (`setVersion` over the resources' content hashes), so that both servers
 * send the same version_info and one load client can check both.
 *
 *   npx tsx bench/peers/export-tree.ts TREE OUT.bin
 *
 * The file: "SMIX1\n", then big-endian u32 counts and u32-length-prefixed strings and bytes:
 * nodes, and per node its id (`<namespace>/<workload>`, the tree's two directory levels, as the
 * server names nodes), the type count, per type its URL, version and resource count, and each
 * resource's encoded message (not an Any: go-control-plane wraps it).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import jsyaml from 'js-yaml';
import { encodeProtoJson } from '../../src/envoy/protos.ts';
import { resourceName, TYPE_URL, XDS_KINDS } from '../../src/emit/types.ts';
import { resourceVersion, setVersion } from '../../src/emit/versions.ts';
import type { ExpectedVersions } from '../serve-kit.ts';

export interface ExportedTree {
  readonly nodes: number;
  readonly resources: number;
  readonly bytes: number;
  /** Node → type URL → version_info, as a wildcard stream of that node ends up with. */
  readonly versions: ExpectedVersions;
}

/** Length-prefixed records, one growing buffer. */
class Out {
  private buf = Buffer.allocUnsafe(1 << 20);
  private n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.n);
    this.n += 4;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.raw(b);
  }
  str(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }
  done(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

const dirs = (path: string): string[] =>
  readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

/** Encodes `tree` (a `compile -o` directory, YAML) into `out`. */
export function exportTree(tree: string, out: string): ExportedTree {
  const o = new Out();
  o.raw(Buffer.from('SMIX1\n'));
  const nodes = dirs(tree).flatMap((ns) => dirs(join(tree, ns)).map((w) => `${ns}/${w}`));
  o.u32(nodes.length);
  const versions: ExpectedVersions = {};
  let resources = 0;
  for (const node of nodes) {
    o.str(node);
    o.u32(XDS_KINDS.length);
    versions[node] = {};
    for (const kind of XDS_KINDS) {
      const typeUrl = TYPE_URL[kind];
      const list = (jsyaml.load(readFileSync(join(tree, node, `${kind}.yaml`), 'utf8')) ?? []) as object[];
      const version = setVersion(list.map((json) => ({ name: resourceName(json as never), version: resourceVersion(typeUrl, json) })));
      versions[node][typeUrl] = version;
      o.str(typeUrl);
      o.str(version);
      o.u32(list.length);
      for (const json of list) o.bytes(encodeProtoJson(typeUrl, json));
      resources += list.length;
    }
  }
  const bytes = o.done();
  writeFileSync(out, bytes);
  return { nodes: nodes.length, resources, bytes: bytes.length, versions };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [tree, out] = process.argv.slice(2);
  if (!tree || !out) {
    console.error('usage: npx tsx bench/peers/export-tree.ts TREE OUT.bin');
    process.exit(2);
  }
  const r = exportTree(tree, out);
  console.log(`${r.nodes} proxies, ${r.resources} resources, ${(r.bytes / 1e6).toFixed(1)} MB → ${out}`);
}
