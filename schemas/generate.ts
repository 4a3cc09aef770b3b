/**
 * Writes the JSON Schema of every kind and version smi-compile reads (src/parser/kinds.ts)
 * into schemas/<group>/<version>/<kind>.json:
 *
 * - SMI and OSM kinds from the openAPIV3Schema of the vendored CRDs in schemas/crds/, made
 *   structural the way the API server treats them (an object that lists properties rejects
 *   every other field), plus the published versions the CRDs no longer carry
 *   (sources/smi-legacy.ts);
 * - Kubernetes core kinds from sources/kubernetes.ts.
 *
 * - schemas/validators.generated.js: every schema compiled into an ajv standalone validator
 *   (generate-validators.ts).
 *
 * Run `node --import tsx schemas/generate.ts` after changing a CRD or a source; a test fails
 * while the committed files are stale.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { KNOWN_KINDS, apiVersionOf, schemaFileOf, type KnownKind } from '../src/parser/kinds.ts';
import { documentSchema, type JsonSchema } from './sources/helpers.ts';
import { KUBERNETES_SCHEMAS } from './sources/kubernetes.ts';
import { SMI_LEGACY_SCHEMAS } from './sources/smi-legacy.ts';
import { generateValidatorsModule, VALIDATORS_FILE } from './generate-validators.ts';

export const SCHEMAS_DIR = dirname(fileURLToPath(import.meta.url));

const CRD_FILES = [
  'crds/smi/access.yaml',
  'crds/smi/httproutegroup.yaml',
  'crds/smi/split.yaml',
  'crds/smi/tcproute.yaml',
  'crds/smi/udproute.yaml',
  'crds/osm/config_meshconfig.yaml',
];

/**
 * Deliberate departures from the CRDs, each for a reason a user would accept. Keyed by
 * `apiVersion kind`, applied to the converted schema.
 */
const OVERRIDES: Record<string, (schema: JsonSchema) => void> = {
  // OSM's own documentation sample (meshconfig/mesh-config.yaml) omits certKeyBitSize,
  // which the CRD lists as required; the controller defaults it. We do not read the
  // certificate section, so rejecting OSM's own sample would help nobody.
  //
  // The same sample also lists observability.outboundPortExclusionList and friends, which
  // the CRD only knows under `traffic`; the API server prunes them. smi-compile reads two
  // MeshConfig fields (the permissive mode and the trust domain), so below `spec` fields
  // the CRD does not list are accepted and ignored, while the ones it lists keep their types.
  'config.openservicemesh.io/v1alpha1 MeshConfig': lenientMeshConfig,
  'config.openservicemesh.io/v1alpha2 MeshConfig': lenientMeshConfig,
  // Ports end up in Envoy's destination_port and route matches, which are 1-65535; the CRDs
  // say only `number`/`integer`, so 70000 or 1.5 used to compile into configs Envoy rejects.
  'access.smi-spec.io/v1alpha1 TrafficTarget': (s) => boundPort(propertyAt(s, ['destination', 'port'])),
  'access.smi-spec.io/v1alpha2 TrafficTarget': (s) => boundPort(propertyAt(s, ['spec', 'destination', 'port'])),
  'specs.smi-spec.io/v1alpha4 TCPRoute': (s) => boundPort(propertyAt(s, ['spec', 'matches', 'ports']).items as JsonSchema),
  'specs.smi-spec.io/v1alpha4 UDPRoute': (s) => boundPort(propertyAt(s, ['spec', 'matches', 'ports']).items as JsonSchema),
  // Weights are Go `int`s in smi-sdk-go (OSM cannot decode 1.5) and Envoy's are integers; the
  // CRDs say `number`. The upper bound (uint32, also for their sum) is the splits pass's.
  'split.smi-spec.io/v1alpha2 TrafficSplit': integerWeights,
  'split.smi-spec.io/v1alpha3 TrafficSplit': integerWeights,
  'split.smi-spec.io/v1alpha4 TrafficSplit': integerWeights,
};

function boundPort(node: JsonSchema): void {
  node.type = 'integer';
  node.minimum = 1;
  node.maximum = 65535;
}

function integerWeights(schema: JsonSchema): void {
  (propertyAt(schema, ['spec', 'backends']).items as JsonSchema & { properties: Record<string, JsonSchema> }).properties.weight.type = 'integer';
}

function lenientMeshConfig(schema: JsonSchema): void {
  delete propertyAt(schema, ['spec', 'certificate']).required;
  openObjects(propertyAt(schema, ['spec']));
}

function openObjects(node: JsonSchema): void {
  if (node.additionalProperties === false) node.additionalProperties = true;
  for (const child of Object.values((node.properties as Record<string, JsonSchema>) ?? {})) openObjects(child);
  if (node.items && typeof node.items === 'object') openObjects(node.items as JsonSchema);
}

function propertyAt(schema: JsonSchema, path: string[]): JsonSchema {
  let node = schema;
  for (const key of path) node = (node.properties as Record<string, JsonSchema>)[key];
  return node;
}

interface CrdVersion {
  source: string;
  schema: JsonSchema;
}

/** `group kind version` → the version's openAPIV3Schema and the CRD file it came from. */
function loadCrdSchemas(): Map<string, CrdVersion> {
  const out = new Map<string, CrdVersion>();
  for (const file of CRD_FILES) {
    for (const doc of parseAllDocuments(readFileSync(join(SCHEMAS_DIR, file), 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; spec?: any } | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const v of crd.spec.versions) {
        out.set(`${crd.spec.group} ${crd.spec.names.kind} ${v.name}`, { source: `schemas/${file}`, schema: v.schema.openAPIV3Schema });
      }
    }
  }
  return out;
}

/** Annotation and validation keywords copied as they are. */
const PASSTHROUGH = ['description', 'required', 'enum', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'default'];

/**
 * Converts one node of a CRD's OpenAPI v3 schema to JSON Schema draft-07, the way the API
 * server validates it: objects listing properties reject unknown fields, Kubernetes
 * extensions become plain JSON Schema.
 */
function convertCrdNode(node: JsonSchema, where: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (PASSTHROUGH.includes(key)) out[key] = value;
    else if (key === 'type' || key === 'nullable' || key === 'x-kubernetes-int-or-string') continue; // below
    else if (key === 'x-kubernetes-preserve-unknown-fields') out.additionalProperties = true;
    else if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, convertCrdNode(v, `${where}.${k}`)]),
      );
    } else if (key === 'items') out.items = convertCrdNode(value as JsonSchema, `${where}[]`);
    else if (key === 'additionalProperties') {
      out.additionalProperties = typeof value === 'boolean' ? value : convertCrdNode(value as JsonSchema, `${where}.*`);
    } else throw new Error(`schemas/generate.ts: unsupported keyword ${key} at ${where}; teach convertCrdNode about it`);
  }
  let type: unknown = node['x-kubernetes-int-or-string'] ? ['integer', 'string'] : node.type;
  if (type !== undefined && node.nullable) type = [...(Array.isArray(type) ? type : [type]), 'null'];
  if (type !== undefined) out.type = type;
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return orderKeys(out);
}

/** Stable, readable key order in the written files. */
const KEY_ORDER = ['$schema', '$comment', 'title', 'description', 'type', 'enum', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'default', 'required', 'properties', 'additionalProperties', 'items', 'definitions'];
function orderKeys(schema: JsonSchema): JsonSchema {
  const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);
  return Object.fromEntries(Object.entries(schema).sort(([a], [b]) => rank(a) - rank(b)));
}

function crdDocumentSchema(k: KnownKind, openApi: JsonSchema, source: string): JsonSchema {
  const root = convertCrdNode(openApi, k.kind);
  const properties = (root.properties as Record<string, JsonSchema>) ?? {};
  const required = [...((root.required as string[]) ?? [])];
  // The CRDs leave `spec` optional but require fields inside it; the API server would store
  // a TrafficTarget with no spec at all, which can only be a mistake. Require the spec
  // whenever it has required fields, so the mistake is reported where it is.
  if ((properties.spec?.required as string[] | undefined)?.length && !required.includes('spec')) required.push('spec');
  const doc = documentSchema(`${apiVersionOf(k)} ${k.kind}`, properties, { required, closed: true });
  doc.$comment = `Generated by schemas/generate.ts from ${source}; do not edit.`;
  OVERRIDES[`${apiVersionOf(k)} ${k.kind}`]?.(doc);
  return orderKeys(doc);
}

/** Every schema file, path relative to schemas/ → its content. */
export function generateSchemas(): Map<string, string> {
  const crds = loadCrdSchemas();
  const files = new Map<string, string>();
  for (const k of KNOWN_KINDS) {
    let schema: JsonSchema;
    const core = KUBERNETES_SCHEMAS[k.kind];
    const fromCrd = crds.get(`${k.group} ${k.kind} ${k.version}`);
    const legacy = SMI_LEGACY_SCHEMAS[k.kind]?.[k.version];
    if (core && (k.group === '' || k.group === 'apps' || k.group === 'discovery.k8s.io')) {
      schema = documentSchema(`${apiVersionOf(k)} ${k.kind}`, core.properties, { required: core.required, closed: false });
      schema.$comment = 'Generated by schemas/generate.ts from schemas/sources/kubernetes.ts; do not edit.';
      schema = orderKeys(schema);
    } else if (fromCrd) {
      schema = crdDocumentSchema(k, fromCrd.schema, fromCrd.source);
    } else if (legacy) {
      schema = crdDocumentSchema(k, legacy, 'schemas/sources/smi-legacy.ts (hand-written: not in the vendored CRDs)');
    } else {
      throw new Error(`schemas/generate.ts: no schema source for ${apiVersionOf(k)} ${k.kind}`);
    }
    files.set(schemaFileOf(k), JSON.stringify(schema, null, 2) + '\n');
  }
  return files;
}

function main(): void {
  const schemas = generateSchemas();
  for (const [rel, text] of [...schemas, [VALIDATORS_FILE, generateValidatorsModule(schemas)] as const]) {
    const path = join(SCHEMAS_DIR, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote schemas/${rel}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
