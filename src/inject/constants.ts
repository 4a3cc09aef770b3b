/**
 * The numbers and names of an injected pod, OSM v1.2's (pkg/constants): dashboards, runbooks and
 * `kubectl` habits written for OSM keep working.
 */
import { CONTROL_PLANE_ACCOUNT } from '../identity/identity.ts';
import { serviceFqdn } from '../ir/names.ts';

export const ENVOY_UID = 1500;
export const ADMIN_PORT = 15000;
export const OUTBOUND_PORT = 15001;
export const INBOUND_PORT = 15003;
export const PROMETHEUS_PORT = 15010;
/** Liveness, readiness and startup probes, rewritten to these ports on Envoy. */
export const LIVENESS_PORT = 15901;
export const READINESS_PORT = 15902;
export const STARTUP_PORT = 15903;
export const PROBE_PORTS = [LIVENESS_PORT, READINESS_PORT, STARTUP_PORT] as const;
/** OSM's osm-healthcheck port (TCP probes); excluded from redirection as OSM does. */
export const HEALTHCHECK_PORT = 15904;

export const ENVOY_CONTAINER = 'envoy';
export const INIT_CONTAINER = 'osm-init';
export const BOOTSTRAP_VOLUME = 'envoy-bootstrap-config-volume';
export const BOOTSTRAP_DIR = '/etc/envoy';
export const BOOTSTRAP_FILE = 'bootstrap.yaml';
export const CERT_VOLUME = 'envoy-xds-cert';
/** Beside the bootstrap's directory, not inside it: a mount point inside a read-only volume cannot be created. */
export const CERT_DIR = '/etc/envoy-tls';
/** The Secret (type kubernetes.io/tls) holding a service account's certificate for the xDS connection. */
export const certSecretName = (serviceAccount: string): string => `envoy-xds-cert-${serviceAccount}`;

export const ANNOTATION = {
  injection: 'openservicemesh.io/sidecar-injection',
  outboundPorts: 'openservicemesh.io/outbound-port-exclusion-list',
  inboundPorts: 'openservicemesh.io/inbound-port-exclusion-list',
  outboundIpRanges: 'openservicemesh.io/outbound-ip-range-exclusion-list',
  outboundIpRangesIncluded: 'openservicemesh.io/outbound-ip-range-inclusion-list',
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const;
export const MONITOR_LABEL = 'openservicemesh.io/monitor';
export const PROMETHEUS_PATH = '/stats/prometheus';

/** Where injected pods dial the control plane by default: deploy/service.yaml's Service, its xDS port. */
export const DEFAULT_XDS_SERVICE = {
  // The Service is named after the control plane's account.
  address: serviceFqdn({ namespace: CONTROL_PLANE_ACCOUNT.namespace, name: CONTROL_PLANE_ACCOUNT.serviceAccount }),
  port: 15128,
} as const;

/** Envoy release this repository pins and tests against (package.json config.envoyVersion). */
export const DEFAULT_ENVOY_IMAGE = 'envoyproxy/envoy:v1.40.0';
/** OSM v1.2's init image: Alpine with iptables, what osm-init runs. */
export const DEFAULT_INIT_IMAGE = 'openservicemesh/init:v1.2.0';
