/** Service → IR, with OSM's rules for the application protocol of each port. */
import type { ManifestDocument } from '../../parser/parse.ts';
import type { AppProtocol, Service, ServicePort } from '../types.ts';
import { base, specOf } from './common.ts';

interface RawServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

interface RawServiceSpec {
  selector: Record<string, string>;
  clusterIP: string;
  clusterIPs: string[];
  ports: RawServicePort[];
}

export function buildService(doc: ManifestDocument): Service {
  const spec = specOf<RawServiceSpec>(doc);
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return {
    ...base(doc, 'Service'),
    // An empty selector selects nothing in Kubernetes (the endpoints are managed by hand),
    // exactly like a missing one.
    selector: spec.selector && Object.keys(spec.selector).length > 0 ? spec.selector : undefined,
    clusterIPs: ips.filter((ip) => ip !== '' && ip !== 'None'),
    headless: ips[0] === 'None',
    ports: (spec.ports ?? []).map((p, i) => servicePort(p, i)),
  };
}

function servicePort(p: RawServicePort, index: number): ServicePort {
  const { protocol, protocolSource } = appProtocolOf(p);
  const port: ServicePort = {
    port: p.port,
    targetPort: p.targetPort ?? p.port,
    protocol,
    protocolSource,
    transport: p.protocol ?? 'TCP',
    path: ['spec', 'ports', index],
  };
  return p.name === undefined ? port : { name: p.name, ...port };
}

/** appProtocol values we understand, and what they mean for the proxy. */
const APP_PROTOCOLS: Readonly<Record<string, AppProtocol>> = {
  http: 'http',
  tcp: 'tcp',
  grpc: 'grpc',
  'tcp-server-first': 'tcp-server-first',
  // Cleartext HTTP/2 is still HTTP to the connection manager.
  http2: 'http',
  h2c: 'http',
  'kubernetes.io/h2c': 'http',
};

/** Port-name prefixes, longest first so `tcp-server-first-x` is not read as `tcp-`. */
const NAME_PREFIXES: readonly AppProtocol[] = ['tcp-server-first', 'http', 'grpc', 'tcp'];

/**
 * OSM's rule: `appProtocol` when set, else the port name's prefix (`http-web`, or exactly
 * `http`), else HTTP. An appProtocol we do not understand falls through to the name, so the
 * linter can say the protocol was guessed.
 */
export function appProtocolOf(p: { name?: string; appProtocol?: string }): Pick<ServicePort, 'protocol' | 'protocolSource'> {
  const fromAppProtocol = p.appProtocol === undefined ? undefined : APP_PROTOCOLS[p.appProtocol];
  if (fromAppProtocol) return { protocol: fromAppProtocol, protocolSource: 'appProtocol' };
  const name = p.name ?? '';
  const prefix = NAME_PREFIXES.find((proto) => name === proto || name.startsWith(`${proto}-`));
  if (prefix) return { protocol: prefix, protocolSource: 'name' };
  return { protocol: 'http', protocolSource: 'default' };
}
