/**
 * Envoy's config dump: one proxy's config as an `envoy.admin.v3.ConfigDump`, the shape of Envoy's
 * admin `/config_dump` (and of `egctl x translate`), so tools that read config dumps read ours.
 *
 * `compile --format config-dump` writes it as `config_dump.json` per workload directory, serve's
 * `/debug/config_dump?node=<ns>/<workload>` serves it for a connected proxy. Both dump what they
 * would send: the emitted resources (compile), the snapshot's (serve).
 *
 * - `configs` in Envoy's order: bootstrap, clusters, listeners, routes, secrets. Endpoints are left
 *   out, as Envoy leaves them out without `?include_eds`.
 * - Versions are the ones a sidecar shows after state-of-the-world ADS from `serve` (the bootstraps'
 *   `api_type: GRPC`): every resource of a type carries the `version_info` of the response that
 *   brought it, the content hash of that type's set (src/emit/versions.ts, the same functions
 *   serve uses).
 * - No timestamps (`last_updated`): the dump of the same input is the same bytes.
 * - Secrets, and the rest: every field the protos mark `(udpa.annotations.sensitive)` (private keys, passwords)
 *   is redacted as Envoy redacts it: each string in it becomes "[redacted]", each bytes field the
 *   bytes of "[redacted]".
 */
import type protobuf from 'protobufjs';
import { envoyType } from '../envoy/protos.ts';
import { resourceName, TYPE_URL, type EnvoyResource, type ProxyConfig } from '../emit/types.ts';
import { resourceVersion, setVersion } from '../emit/versions.ts';

const ADMIN = 'type.googleapis.com/envoy.admin.v3';
export const CONFIG_DUMP_TYPE = `${ADMIN}.ConfigDump`;
export const CONFIG_DUMP_FILE = 'config_dump.json';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const REDACTED = '[redacted]';
const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');

/** A resource with the `version_info` it is dumped with. */
export interface VersionedResource {
  readonly json: EnvoyResource;
  readonly version: string;
}

/** One type's resources, sorted by name, and the type's own `version_info` (the last accepted response's). */
export interface DumpedType {
  readonly version: string;
  readonly resources: readonly VersionedResource[];
}

export type DumpKind = 'clusters' | 'listeners' | 'routes' | 'secrets';
export type DumpResources = Readonly<Partial<Record<DumpKind, DumpedType>>>;

const DUMP_KINDS: readonly DumpKind[] = ['clusters', 'listeners', 'routes', 'secrets'];

/**
 * The emitted resources of a proxy as a sidecar holds them after state-of-the-world ADS from
 * serve: each with its type's set version, made from serve's own resource versions.
 */
function emittedResources(proxy: ProxyConfig): DumpResources {
  const out: Partial<Record<DumpKind, DumpedType>> = {};
  for (const kind of DUMP_KINDS) {
    const list = proxy.resources[kind] ?? [];
    const version = setVersion(list.map((json) => ({ name: resourceName(json), version: resourceVersion(TYPE_URL[kind], json) })));
    out[kind] = { version, resources: list.map((json) => ({ json, version })) };
  }
  return out;
}

/** The `envoy.admin.v3.ConfigDump` (proto3 JSON, snake_case as Envoy prints it) of a proxy. */
export function configDump(bootstrap: Readonly<Record<string, unknown>>, resources: DumpResources): Record<string, unknown> {
  const none: DumpedType = { version: '', resources: [] };
  const { clusters = none, listeners = none, routes = none, secrets = none } = resources;
  const top = (t: DumpedType) => (t.version ? { version_info: t.version } : {});
  const configs: Record<string, unknown>[] = [
    { '@type': `${ADMIN}.BootstrapConfigDump`, bootstrap: redactSensitive(BOOTSTRAP, bootstrap) },
    {
      '@type': `${ADMIN}.ClustersConfigDump`,
      ...top(clusters),
      dynamic_active_clusters: clusters.resources.map((r) => ({ version_info: r.version, cluster: redactSensitive(TYPE_URL.clusters, r.json) })),
    },
    {
      '@type': `${ADMIN}.ListenersConfigDump`,
      ...top(listeners),
      dynamic_listeners: listeners.resources.map((r) => ({ name: r.json.name, active_state: { version_info: r.version, listener: redactSensitive(TYPE_URL.listeners, r.json) } })),
    },
    { '@type': `${ADMIN}.RoutesConfigDump`, dynamic_route_configs: routes.resources.map((r) => ({ version_info: r.version, route_config: redactSensitive(TYPE_URL.routes, r.json) })) },
    {
      '@type': `${ADMIN}.SecretsConfigDump`,
      dynamic_active_secrets: secrets.resources.map((r) => ({ name: r.json.name, version_info: r.version, secret: redactSensitive(TYPE_URL.secrets, r.json) })),
    },
  ];
  return { configs };
}

/** The config dump file's text: JSON as Envoy's admin prints it (two-space indent). */
export function configDumpText(proxy: ProxyConfig): string {
  return `${JSON.stringify(configDump(proxy.bootstrap, emittedResources(proxy)), null, 2)}\n`;
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** `json` (proto3 JSON of `typeName`) with every sensitive field's strings and bytes redacted, inside Any too; `json` itself when there is none. */
export function redactSensitive<T>(typeName: string, json: T): T {
  return redactMessage(envoyType(typeName), json) as T;
}

function redactMessage(type: protobuf.Type, json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  if (type.fullName === '.google.protobuf.Any') {
    const url = (json as Record<string, unknown>)['@type'];
    if (typeof url !== 'string') return json;
    let inner: protobuf.Type;
    try {
      inner = envoyType(url);
    } catch {
      return json; // a type the protos do not know: it would not have encoded either
    }
    return redactMessage(inner, json);
  }
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[camel(key)] ?? type.fields[key];
    if (!field) continue;
    field.resolve();
    let next = value;
    if (field.options?.['(udpa.annotations.sensitive)']) next = redactAll(field, value);
    else if (field.resolvedType && 'fields' in field.resolvedType) {
      const t = field.resolvedType as protobuf.Type;
      if (field.map) next = mapValues(value, (v) => redactMessage(t, v));
      else next = Array.isArray(value) ? sameOrMapped(value, (v) => redactMessage(t, v)) : redactMessage(t, value);
    }
    if (next !== value) (out ??= { ...(json as Record<string, unknown>) })[key] = next;
  }
  return out ?? json;
}

/** The array itself when `f` changes none of its items (nothing to redact: nothing copied). */
function sameOrMapped(list: readonly unknown[], f: (v: unknown) => unknown): readonly unknown[] {
  const mapped = list.map(f);
  return mapped.every((v, i) => v === list[i]) ? list : mapped;
}

function mapValues(value: unknown, f: (v: unknown) => unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const mapped = entries.map(([k, v]) => [k, f(v)] as const);
  return mapped.every(([, v], i) => v === entries[i][1]) ? value : Object.fromEntries(mapped);
}

/** Everything below a sensitive field: strings become "[redacted]", bytes the bytes of it. */
function redactAll(field: protobuf.Field, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => redactAll(field, v));
  if (typeof value === 'string') return field.type === 'bytes' ? REDACTED_BYTES : REDACTED;
  if (value === null || typeof value !== 'object') return value;
  const type = field.resolvedType && 'fields' in field.resolvedType ? (field.resolvedType as protobuf.Type) : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = type ? (type.fields[camel(key)] ?? type.fields[key]) : undefined;
    sub?.resolve();
    out[key] = sub ? redactAll(sub, v) : typeof v === 'string' ? REDACTED : v;
  }
  return out;
}
