/**
 * mTLS for proxyless gRPC, when the server has a CA. gRPC cannot take certificates over SDS: its
 * TLS contexts name `certificate_provider_instance`s that its bootstrap declares (gRFC A29),
 * typically a `file_watcher` over what `smi-compile ca issue` writes. One instance serves both
 * the identity and the roots. The policy is the sidecar's: a client pins the identities its
 * upstream must present (as the sidecar's outbound trust anchor does), a server requires client
 * certificates and admits principals by RBAC.
 */
import type { UpstreamCluster } from '../../ir/proxy-plan.ts';
import { TLS_TRANSPORT_SOCKET, TYPE } from '../names.ts';

import type { Json } from '../../shared/json.ts';

/**
 * The client side: the mesh identity and roots from the instance, the upstream's identities
 * pinned. gRPC reads the older `match_subject_alt_names` (an exact matcher there compares
 * DNS-style against every SAN of the peer). No `tls_params` or SNI: gRPC rejects the former and
 * ignores the latter.
 */
export function clientTransportSocket(upstream: UpstreamCluster, instance: string): Json {
  const sans = upstream.identities.map((exact) => ({ exact }));
  return {
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
  };
}

/** The server side of a gRPC server's listener: the mesh identity, client certificates required. */
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
