/**
 * The static Envoy bootstrap of one proxy (osm pkg/envoy/bootstrap/config.go, minus OSM's
 * mTLS to its controller and its health-probe listeners): who the proxy is (`node.id`, which
 * the xDS server uses to pick its configuration), where the admin interface listens, and one
 * static cluster for the ADS stream that delivers everything else. Listeners and clusters come
 * over ADS; routes, endpoints and secrets follow from them (RDS, EDS and SDS config sources
 * all say `ads`).
 *
 * The ADS connection is plaintext: `smi-compile serve` is a local gRPC server without TLS.
 */
import { isIP } from 'node:net';
import type { CompileOptions } from '../compiler/options.ts';
import { DEFAULT_XDS_ADDRESS, DEFAULT_XDS_PORT } from '../compiler/options.ts';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { ADS_CONFIG_SOURCE, HTTP_PROTOCOL_OPTIONS_HTTP2, socketAddress } from './common.ts';
import { ADMIN_PORT, HTTP_PROTOCOL_OPTIONS_KEY, LOCALHOST_ADDRESS, XDS_CLUSTER_NAME } from './names.ts';
import { shared } from './shared.ts';

type Json = Record<string, unknown>;

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
export function bootstrap(plan: ProxyPlan, options: CompileOptions): Json {
  const nodeId = `${plan.namespace}/${plan.workload}`;
  const address = options.xdsAddress ?? DEFAULT_XDS_ADDRESS;
  const port = options.xdsPort ?? DEFAULT_XDS_PORT;
  return {
    node: { id: nodeId, cluster: nodeId },
    static_resources: shared('bootstrap-static', `${address}|${port}`, () => ({ clusters: [xdsCluster(address, port)] })),
    dynamic_resources: shared('bootstrap-dynamic', '', () => ({
      lds_config: ADS_CONFIG_SOURCE,
      cds_config: ADS_CONFIG_SOURCE,
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
        set_node_on_first_message_only: true,
      },
    })),
    admin: shared('bootstrap-admin', '', () => ({ address: socketAddress(LOCALHOST_ADDRESS, ADMIN_PORT) })),
  };
}
