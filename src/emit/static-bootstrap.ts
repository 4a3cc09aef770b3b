/**
 * The static packaging of one proxy (`compile --static`, `bootstrap-static.yaml`): a bootstrap
 * that needs no control plane, derived from the very resources the dynamic packaging serves,
 * never emitted a second time. Each reference to the ADS stream is replaced by what it names:
 *
 * - an HTTP connection manager's `rds` becomes `route_config`, the RouteConfiguration inline;
 * - an `EDS` cluster becomes `STATIC`, its `eds_cluster_config` the ClusterLoadAssignment inline
 *   (`load_assignment`);
 * - an SDS reference loses its `sds_config`: a bare name refers to a secret in
 *   `static_resources.secrets`, where the proxy's secrets go as they are (with `--ca
 *   --emit-secrets`, the certificate and key by file name, as in secrets.yaml: the key stays in
 *   its 0600 file, out of YAML that gets diffed and pasted).
 *
 * The proxy's node and admin stay; the xDS cluster and `dynamic_resources` go. A reference the
 * proxy's own resources do not resolve, or an ADS config source left anywhere, is a compiler bug
 * (the resource set of a proxy is closed) and throws.
 */
import type { ProxyConfig, EnvoyResource } from './types.ts';
import { resourceName } from './types.ts';
import type { Json } from '../shared/json.ts';

function withoutType(resource: EnvoyResource): Json {
  const { '@type': _type, ...rest } = resource;
  return rest;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Inliner {
  private readonly routes: ReadonlyMap<string, EnvoyResource>;
  private readonly assignments: ReadonlyMap<string, EnvoyResource>;

  constructor(private readonly proxy: ProxyConfig) {
    this.routes = new Map(proxy.resources.routes.map((r) => [resourceName(r), r]));
    this.assignments = new Map(proxy.resources.endpoints.map((r) => [resourceName(r), r]));
  }

  /** A copy of `value` with every ADS reference resolved; key order kept (a replaced key takes its place). */
  inline(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.inline(v));
    if (!isObject(value)) return value;
    const out: Json = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === 'rds' && isObject(v)) {
        out.route_config = this.inline(withoutType(this.lookup(this.routes, String(v.route_config_name), 'route configuration')));
      } else if (key === 'eds_cluster_config' && value.type === 'EDS') {
        const name = String((isObject(v) && v.service_name) || value.name);
        out.load_assignment = this.inline(withoutType(this.lookup(this.assignments, name, 'ClusterLoadAssignment')));
      } else if (key === 'type' && v === 'EDS') {
        out.type = 'STATIC';
      } else if (key === 'sds_config') {
        continue;
      } else if (key === 'ads') {
        throw new Error(`static bootstrap of ${this.proxy.nodeId}: an ADS config source left where no static form is known`);
      } else {
        out[key] = this.inline(v);
      }
    }
    return out;
  }

  private lookup(table: ReadonlyMap<string, EnvoyResource>, name: string, what: string): EnvoyResource {
    const hit = table.get(name);
    if (!hit) throw new Error(`static bootstrap of ${this.proxy.nodeId}: ${what} ${name} is referenced but not emitted`);
    return hit;
  }
}

/** The proxy's static bootstrap (envoy.config.bootstrap.v3.Bootstrap as proto3 JSON). */
export function staticBootstrap(proxy: ProxyConfig): Json {
  const inliner = new Inliner(proxy);
  const { static_resources: _xds, dynamic_resources: _ads, ...rest } = proxy.bootstrap;
  const out: Json = {};
  for (const [key, value] of Object.entries(rest)) {
    out[key] = value;
    if (key !== 'node') continue;
    out.static_resources = {
      listeners: proxy.resources.listeners.map((l) => inliner.inline(withoutType(l))),
      clusters: proxy.resources.clusters.map((c) => inliner.inline(withoutType(c))),
      secrets: proxy.resources.secrets.map(withoutType),
    };
  }
  return out;
}
