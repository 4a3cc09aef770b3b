/**
 * Small Envoy building blocks used by several resource families. Constant pieces are
 * frozen singletons: thousands of resources point at the same object.
 */
import { TYPE } from './names.ts';
import type { EmitSession } from './session.ts';
import type { Json } from '../shared/json.ts';
import { compareStrings } from '../shared/compare.ts';

/** HTTP and gRPC ports go through the HTTP connection manager; TCP and tcp-server-first through tcp_proxy (osm lds/inmesh.go). */
export function isHttpLike(port: { readonly protocol: string }): boolean {
  return port.protocol === 'http' || port.protocol === 'grpc';
}

/** `ads: {}` with the v3 resource API: every dynamic resource comes over the one ADS stream (osm GetADSConfigSource). */
export const ADS_CONFIG_SOURCE: Json = Object.freeze({ ads: Object.freeze({}), resource_api_version: 'V3' });

/** An Any carrying an empty message: filters whose defaults are what we want. */
export function emptyTyped(typeUrl: string): Json {
  return { '@type': typeUrl };
}

export function socketAddress(address: string, port: number): Json {
  return { socket_address: { address, port_value: port } };
}

/** `/32` for IPv4, `/128` for IPv6: one exact destination address (osm GetCIDRRangeFromStr of `ip/32`). */
export function exactCidr(ip: string): Json {
  return { address_prefix: ip, prefix_len: ip.includes(':') ? 128 : 32 };
}

/** OSM's default sidecar TLS versions (MeshConfig `sidecar.tlsMinProtocolVersion`/`tlsMaxProtocolVersion`). */
export const TLS_PARAMS: Json = Object.freeze({
  tls_minimum_protocol_version: 'TLSv1_2',
  tls_maximum_protocol_version: 'TLSv1_3',
});

/** A reference to an SDS secret served over ADS; one object per secret name, however many TLS contexts name it. */
export function sdsSecret(session: EmitSession, name: string): Json {
  return session.shared('sds-secret', name, () => ({ name, sds_config: ADS_CONFIG_SOURCE }));
}

/**
 * Upstream HTTP protocol for mesh clusters (osm cds GetHTTPProtocolOptions): HTTP speaks
 * whatever the caller spoke (HTTP/1.1 stays 1.1, h2 stays h2); gRPC is always HTTP/2, so its
 * clusters say so explicitly rather than relying on the caller's protocol.
 */
export const HTTP_PROTOCOL_OPTIONS_USE_DOWNSTREAM: Json = Object.freeze({
  '@type': TYPE.httpProtocolOptions,
  use_downstream_protocol_config: Object.freeze({ http2_protocol_options: Object.freeze({}) }),
});

export const HTTP_PROTOCOL_OPTIONS_HTTP2: Json = Object.freeze({
  '@type': TYPE.httpProtocolOptions,
  explicit_http_config: Object.freeze({ http2_protocol_options: Object.freeze({}) }),
});

/** Orders resources, filter chains and virtual hosts by `name` (or a CLA's `cluster_name`), code-unit order as everywhere else. */
export function compareByName(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return compareStrings(String(a.name ?? a.cluster_name ?? ''), String(b.name ?? b.cluster_name ?? ''));
}
