/**
 * What one stream sees of the snapshot: the sidecar flavour (the proxy's resources as
 * emitted) or the proxyless flavour (derived from them, see proxyless.ts).
 *
 * The flavour is a property of the stream, not of a resource name: a sidecar and a gRPC
 * client of the same workload both ask for cluster `<ns>/<svc>|<port>`, and must get different
 * clusters (with and without the sidecar's mTLS socket).
 */
import type { NodeMessage } from '../xds/ads-service.ts';
import {
  parseApiListenerName,
  proxylessCluster,
  proxylessEndpoints,
  proxylessListener,
  proxylessRouteConfiguration,
} from './proxyless.ts';
import { grpcServerListener, grpcServerRouteConfiguration, parseServerListenerName } from './proxyless-server.ts';
import { withClientTls } from './proxyless-tls.ts';
import { memoize } from '../snapshot/snapshot.ts';
import { resourceSet, type ResourceSet } from '../snapshot/resource-set.ts';
import type { EncodedResource, ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import type { ResourceInterner } from '../snapshot/interner.ts';
import type { SecretSource } from '../security/secrets.ts';
import { CDS, EDS, LDS, RDS, SDS } from '../xds/type-urls.ts';

export type Flavour = 'sidecar' | 'proxyless';

export interface View {
  /** The named resource, or undefined when it does not exist for this proxy. */
  get(typeUrl: string, name: string): EncodedResource | undefined;
  /** Every resource of the type: what a wildcard subscription gets. */
  all(typeUrl: string): Iterable<EncodedResource>;
  /**
   * The same as `all`, as a set shared by every stream of the proxy (snapshot.ts `resourceSet`),
   * where the view can share it: undefined otherwise.
   */
  set?(typeUrl: string): ResourceSet | undefined;
}

/**
 * gRPC libraries name themselves in `node.user_agent_name` ("gRPC Go", "gRPC Node Pure JS",
 * "gRPC Java", ...); Envoy says "envoy". A stream that names no agent is judged by what it asks
 * for (see `looksProxyless`).
 */
export function flavourOfNode(node: NodeMessage | null | undefined): Flavour | undefined {
  const agent = node?.userAgentName ?? '';
  if (/^grpc\b/i.test(agent)) return 'proxyless';
  if (agent === 'envoy') return 'sidecar';
  return undefined;
}

/** A Listener request by `<host>:<port>` is how only gRPC clients ask. */
export function looksProxyless(typeUrl: string, names: Iterable<string>): boolean {
  if (typeUrl !== LDS) return false;
  for (const n of names) if (parseApiListenerName(n) || parseServerListenerName(n)) return true;
  return false;
}

/**
 * The sidecar view: the proxy's resources as emitted. With a CA, its secrets come filled in
 * (secrets.ts), and a secret that is not the proxy's own, or not issued yet, does not exist.
 */
export function sidecarView(proxy: ProxySnapshot, secrets?: SecretSource): View {
  const get = (typeUrl: string, name: string): EncodedResource | undefined => {
    const r = proxy.resources.get(typeUrl)?.get(name);
    return r && secrets && typeUrl === SDS ? secrets.resolve(proxy, r) : r;
  };
  return {
    get,
    all: (typeUrl) => {
      const own = proxy.resources.get(typeUrl);
      if (!own || !secrets || typeUrl !== SDS) return own?.values() ?? [];
      return [...own.keys()].map((n) => get(typeUrl, n)).filter((r): r is EncodedResource => r !== undefined);
    },
    // With a CA, secrets are filled in per proxy and change with renewals: not a shared set.
    set: (typeUrl) => {
      const own = proxy.resources.get(typeUrl);
      return own && !(secrets && typeUrl === SDS) ? resourceSet(own) : undefined;
    },
  };
}

/**
 * The proxyless view. Derived resources are memoised on the snapshot and interned, so a
 * thousand gRPC clients of one workload share each derived resource's bytes.
 */
export function proxylessView(snapshot: Snapshot, proxy: ProxySnapshot, interner: ResourceInterner, tlsInstance?: string): View {
  const derive = (typeUrl: string, name: string, build: () => Record<string, unknown> | undefined): EncodedResource | undefined =>
    memoize(snapshot, `proxyless|${tlsInstance ?? ''}|${proxy.nodeId}|${typeUrl}|${name}`, () => {
      const json = build();
      return json ? interner.internDerived(typeUrl, json as EncodedResource['json']) : undefined;
    });

  const routeConfig = (name: string): EncodedResource | undefined =>
    derive(RDS, name, () => {
      const target = parseApiListenerName(name);
      if (target) return proxylessRouteConfiguration(snapshot, proxy, target);
      const server = parseServerListenerName(name); // gRPC servers: see proxyless-server.ts
      return server ? grpcServerRouteConfiguration(proxy, server) : undefined;
    });

  const get = (typeUrl: string, name: string): EncodedResource | undefined => {
    switch (typeUrl) {
      case LDS: {
        const server = parseServerListenerName(name);
        if (server) return derive(LDS, name, () => grpcServerListener(proxy, server, tlsInstance));
        // The listener exists exactly when its route configuration does (the client may call the service).
        return routeConfig(name) ? derive(LDS, name, () => proxylessListener(name, name)) : undefined;
      }
      case RDS:
        return routeConfig(name);
      case CDS: {
        const sidecar = proxy.resources.get(CDS)?.get(name);
        return sidecar
          ? derive(CDS, name, () => {
              const cluster = proxylessCluster(sidecar.json);
              // With a CA: mTLS from the gRPC bootstrap's certificate provider (proxyless-tls.ts).
              return cluster && tlsInstance ? withClientTls(cluster, sidecar.json, proxy, tlsInstance) : cluster;
            })
          : undefined;
      }
      case EDS: {
        const sidecar = proxy.resources.get(EDS)?.get(name);
        return sidecar ? derive(EDS, name, () => proxylessEndpoints(sidecar.json)) : undefined;
      }
      default:
        return undefined; // no SDS: gRPC takes certificates from its bootstrap's providers
    }
  };

  return {
    get,
    all: (typeUrl) => {
      // gRPC only ever asks by name; a wildcard CDS/EDS still gets the derived set, LDS/RDS nothing
      // (API listeners exist only for the names asked).
      if (typeUrl !== CDS && typeUrl !== EDS) return [];
      const out: EncodedResource[] = [];
      for (const name of proxy.resources.get(typeUrl)?.keys() ?? []) {
        const r = get(typeUrl, name);
        if (r) out.push(r);
      }
      return out;
    },
  };
}

export function viewFor(flavour: Flavour, snapshot: Snapshot, proxy: ProxySnapshot, interner: ResourceInterner, secrets?: SecretSource): View {
  return flavour === 'proxyless' ? proxylessView(snapshot, proxy, interner, secrets?.certificateProviderInstance) : sidecarView(proxy, secrets);
}
