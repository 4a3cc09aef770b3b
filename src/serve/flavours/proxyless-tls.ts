/**
 * mTLS for proxyless gRPC, when the server has a CA.
 *
 * gRPC cannot take certificates over SDS: its TLS contexts name `certificate_provider_instance`s
 * that its bootstrap declares (gRFC A29), typically a `file_watcher` reading the tls.crt,
 * tls.key and ca.crt that `smi-compile ca issue` (or cert-manager, or an agent) writes. So the
 * proxyless flavour swaps the sidecar's SDS references for references to one instance, named
 * `mesh` (CERTIFICATE_PROVIDER_INSTANCE), that serves both the identity and the roots.
 *
 * What stays the same as for sidecars is the policy: a client pins the identities the upstream
 * must present (the SANs of `root-cert-for-mtls-outbound:<ns>/<svc>`), and a server requires
 * client certificates and admits principals by RBAC.
 */
import { TLS_TRANSPORT_SOCKET, TYPE } from '../../emit/names.ts';
import type { EnvoyResource } from '../../emit/types.ts';
import type { ProxySnapshot } from '../snapshot/snapshot-types.ts';
import { SDS } from '../xds/type-urls.ts';

type Json = Record<string, unknown>;

const asJson = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/**
 * The identities a sidecar cluster's upstream must present, read from the outbound trust anchor
 * its TLS context names, as gRPC matchers. gRPC reads the older `match_subject_alt_names`
 * (an exact matcher there compares DNS-style against every SAN of the peer).
 */
function upstreamSanMatchers(sidecarCluster: EnvoyResource, proxy: ProxySnapshot): Json[] {
  const tls = asJson(asJson(asJson(sidecarCluster.transport_socket)?.typed_config)?.common_tls_context);
  const secretName = asJson(tls?.validation_context_sds_secret_config)?.name;
  if (typeof secretName !== 'string') return [];
  const secret = proxy.resources.get(SDS)?.get(secretName)?.json;
  const typed = asJson(secret?.validation_context)?.match_typed_subject_alt_names;
  return (Array.isArray(typed) ? typed : []).map((m) => asJson(asJson(m)?.matcher)).filter((m): m is Json => m !== undefined);
}

/**
 * The proxyless cluster with client mTLS: the mesh identity from the instance, the roots from
 * the instance, and the upstream identities pinned. No `tls_params` or SNI: gRPC rejects the
 * former and ignores the latter.
 */
export function withClientTls(cluster: EnvoyResource, sidecarCluster: EnvoyResource, proxy: ProxySnapshot, instance: string): EnvoyResource {
  if (!sidecarCluster.transport_socket) return cluster; // the sidecar talks plaintext there too
  const sans = upstreamSanMatchers(sidecarCluster, proxy);
  return {
    ...cluster,
    transport_socket: {
      name: TLS_TRANSPORT_SOCKET,
      typed_config: {
        '@type': TYPE.upstreamTlsContext,
        common_tls_context: {
          tls_certificate_provider_instance: { instance_name: instance },
          validation_context: {
            ca_certificate_provider_instance: { instance_name: instance },
            ...(sans.length > 0 ? { match_subject_alt_names: sans } : {}),
          },
        },
      },
    },
  };
}

/** The server side for a gRPC server's listener: the mesh identity, client certificates required. */
export function serverTransportSocket(instance: string): Json {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': TYPE.downstreamTlsContext,
      common_tls_context: {
        tls_certificate_provider_instance: { instance_name: instance },
        validation_context: { ca_certificate_provider_instance: { instance_name: instance } },
      },
      require_client_certificate: true,
    },
  };
}
