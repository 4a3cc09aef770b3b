/**
 * Envoy v3 resources as proto3 JSON: `@type` first, snake_case field names as in Envoy's
 * docs, already in their final (deterministic) key and list order.
 */
export type XdsKind = 'listeners' | 'routes' | 'clusters' | 'endpoints' | 'secrets';

export const XDS_KINDS: readonly XdsKind[] = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'];

export const TYPE_URL: Readonly<Record<XdsKind, string>> = {
  listeners: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secrets: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
};

/** A resource as emitted. Named by `name` (Listener, RouteConfiguration, Cluster, Secret) or `cluster_name` (ClusterLoadAssignment). */
export interface EnvoyResource {
  readonly '@type': string;
  readonly [field: string]: unknown;
}

/** Everything one sidecar (one workload) receives. */
export interface ProxyConfig {
  readonly namespace: string;
  readonly workload: string;
  /** `<namespace>/<workload>`, the xDS `node.id`. */
  readonly nodeId: string;
  /** The service account the workload runs as: its certificate identity `<sa>.<ns>.<trustDomain>`. Absent in hand-made test configs. */
  readonly identity?: { readonly serviceAccount: string; readonly trustDomain: string };
  /** Each list sorted by resource name. */
  readonly resources: Readonly<Record<XdsKind, readonly EnvoyResource[]>>;
  /** A static Envoy bootstrap (envoy.config.bootstrap.v3.Bootstrap as proto3 JSON) pointing at the xDS server. */
  readonly bootstrap: Readonly<Record<string, unknown>>;
}

/** The resource's name as xDS uses it. */
export function resourceName(r: EnvoyResource): string {
  return String((r as Record<string, unknown>).name ?? (r as Record<string, unknown>).cluster_name ?? '');
}
