/**
 * What one stream sees of the snapshot: the sidecar flavour (the proxy's resources as
 * emitted) or the proxyless flavour (derived from them, see proxyless.ts).
 *
 * The flavour is a property of the stream, not of a resource name: a sidecar and a gRPC
 * client of the same workload both ask for cluster `<ns>/<svc>|<port>`, and must get different
 * clusters (with and without the sidecar's mTLS socket).
 */
import type { NodeMessage } from './ads-service.ts';
import {
  parseApiListenerName,
  proxylessCluster,
  proxylessEndpoints,
  proxylessListener,
  proxylessRouteConfiguration,
} from './proxyless.ts';
import { memoize, type EncodedResource, type ProxySnapshot, type ResourceInterner, type Snapshot } from './snapshot.ts';
import { CDS, EDS, LDS, RDS } from './type-urls.ts';

export type Flavour = 'sidecar' | 'proxyless';

export interface View {
  /** The named resource, or undefined when it does not exist for this proxy. */
  get(typeUrl: string, name: string): EncodedResource | undefined;
  /** Every resource of the type: what a wildcard subscription gets. */
  all(typeUrl: string): Iterable<EncodedResource>;
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
  for (const n of names) if (parseApiListenerName(n)) return true;
  return false;
}

export function sidecarView(proxy: ProxySnapshot): View {
  return {
    get: (typeUrl, name) => proxy.resources.get(typeUrl)?.get(name),
    all: (typeUrl) => proxy.resources.get(typeUrl)?.values() ?? [],
  };
}

/**
 * The proxyless view. Derived resources are memoised on the snapshot and interned, so a
 * thousand gRPC clients of one workload share each derived resource's bytes.
 */
export function proxylessView(snapshot: Snapshot, proxy: ProxySnapshot, interner: ResourceInterner): View {
  const derive = (typeUrl: string, name: string, build: () => Record<string, unknown> | undefined): EncodedResource | undefined =>
    memoize(snapshot, `proxyless|${proxy.nodeId}|${typeUrl}|${name}`, () => {
      const json = build();
      return json ? interner.internDerived(typeUrl, json as EncodedResource['json']) : undefined;
    });

  const routeConfig = (name: string): EncodedResource | undefined =>
    derive(RDS, name, () => {
      const target = parseApiListenerName(name);
      return target ? proxylessRouteConfiguration(snapshot, proxy, target) : undefined;
    });

  const get = (typeUrl: string, name: string): EncodedResource | undefined => {
    switch (typeUrl) {
      case LDS:
        // The listener exists exactly when its route configuration does (the client may call the service).
        return routeConfig(name) ? derive(LDS, name, () => proxylessListener(name, name)) : undefined;
      case RDS:
        return routeConfig(name);
      case CDS: {
        const sidecar = proxy.resources.get(CDS)?.get(name);
        return sidecar ? derive(CDS, name, () => proxylessCluster(sidecar.json)) : undefined;
      }
      case EDS: {
        const sidecar = proxy.resources.get(EDS)?.get(name);
        return sidecar ? derive(EDS, name, () => proxylessEndpoints(sidecar.json)) : undefined;
      }
      default:
        return undefined; // no SDS: proxyless clusters carry no SDS-based TLS
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

export function viewFor(flavour: Flavour, snapshot: Snapshot, proxy: ProxySnapshot, interner: ResourceInterner): View {
  return flavour === 'proxyless' ? proxylessView(snapshot, proxy, interner) : sidecarView(proxy);
}
