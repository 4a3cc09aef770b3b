/**
 * The static Envoy bootstrap of one proxy (osm pkg/envoy/bootstrap/config.go, minus OSM's
 * mTLS to its controller and its health-probe listeners): who the proxy is (`node.id`, which
 * the xDS server uses to pick its configuration), where the admin interface listens, and one
 * static cluster for the ADS stream that delivers everything else. Listeners and clusters come
 * over ADS; routes, endpoints and secrets follow from them (RDS, EDS and SDS config sources
 * all say `ads`).
 *
 * The ADS connection is plaintext, as `smi-compile serve` without `--ca` speaks it; with a CA
 * (`compile --ca`), `withXdsTls` gives the xDS cluster mTLS, as OSM's bootstrap has to its
 * controller: the workload's certificate files, the mesh's trust bundle, and the control plane's
 * identity pinned.
 */
import { isIP } from 'node:net';
import type { CompileOptions } from '../shared/options.ts';
import { DEFAULT_XDS_ADDRESS, DEFAULT_XDS_PORT } from '../shared/options.ts';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { ADS_CONFIG_SOURCE, HTTP_PROTOCOL_OPTIONS_HTTP2, socketAddress, TLS_PARAMS } from './common.ts';
import { ADMIN_PORT, HTTP_PROTOCOL_OPTIONS_KEY, LOCALHOST_ADDRESS, nodeId, TLS_TRANSPORT_SOCKET, TYPE, XDS_CLUSTER_NAME } from './names.ts';
import type { EmitSession } from './session.ts';
import type { Json } from '../shared/json.ts';

/** The cluster Envoy dials for ADS: gRPC, hence HTTP/2; resolved by DNS when the address is a host name. */
function xdsCluster(address: string, port: number): Json {
  return {
    name: XDS_CLUSTER_NAME,
    type: isIP(address) ? 'STATIC' : 'LOGICAL_DNS',
    typed_extension_protocol_options: { [HTTP_PROTOCOL_OPTIONS_KEY]: HTTP_PROTOCOL_OPTIONS_HTTP2 },
    load_assignment: {
      cluster_name: XDS_CLUSTER_NAME,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(address, port) } }] }],
    },
    // OSM's keepalive on the controller connection: notice a dead control plane within minutes, not hours.
    upstream_connection_options: { tcp_keepalive: { keepalive_probes: 5, keepalive_time: 60, keepalive_interval: 5 } },
  };
}

/** Bootstrap as proto3 JSON (no `@type`: it is a file Envoy reads with `-c`, not an Any). */
/** Everything but the node is the same for every proxy of a compile: one shared object each. */
export function bootstrap(session: EmitSession, plan: Pick<ProxyPlan, 'namespace' | 'workload'>, options: CompileOptions): Json {
  const address = options.xdsAddress ?? DEFAULT_XDS_ADDRESS;
  const port = options.xdsPort ?? DEFAULT_XDS_PORT;
  return {
    node: { id: nodeId(plan), cluster: nodeId(plan) },
    static_resources: session.shared('bootstrap-static', `${address}|${port}`, () => ({ clusters: [xdsCluster(address, port)] })),
    dynamic_resources: session.shared('bootstrap-dynamic', '', () => ({
      lds_config: ADS_CONFIG_SOURCE,
      cds_config: ADS_CONFIG_SOURCE,
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
        set_node_on_first_message_only: true,
      },
    })),
    admin: session.shared('bootstrap-admin', '', () => ({ address: socketAddress(LOCALHOST_ADDRESS, ADMIN_PORT) })),
  };
}

/** What a proxy needs to dial the xDS server over mTLS. */
export interface XdsTls {
  /** Files holding the workload's certificate chain and its private key (Envoy reads them at start). */
  readonly certificateChainFile: string;
  readonly privateKeyFile: string;
  /** PEM: the roots the server's certificate must chain to. */
  readonly trustedCa: string;
  /** The server's SPIFFE ID: any mesh certificate chains to the roots, only the control plane's carries this URI SAN. */
  readonly serverSpiffeId: string;
}

/**
 * The bootstrap with a TLS transport socket on its xDS cluster. ALPN `h2`: the server is gRPC
 * over TLS (grpc-js, as Node's HTTP/2 server, refuses a TLS connection that does not negotiate it).
 */
export function withXdsTls(bootstrap: Readonly<Json>, tls: XdsTls): Json {
  const staticResources = bootstrap.static_resources as { clusters: Json[] };
  const transport_socket = {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': TYPE.upstreamTlsContext,
      common_tls_context: {
        tls_params: TLS_PARAMS,
        tls_certificates: [{ certificate_chain: { filename: tls.certificateChainFile }, private_key: { filename: tls.privateKeyFile } }],
        validation_context: {
          trusted_ca: { inline_string: tls.trustedCa },
          match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: tls.serverSpiffeId } }],
        },
        alpn_protocols: ['h2'],
      },
    },
  };
  return {
    ...bootstrap,
    static_resources: {
      ...staticResources,
      clusters: staticResources.clusters.map((c) => (c.name === XDS_CLUSTER_NAME ? { ...c, transport_socket } : c)),
    },
  };
}
