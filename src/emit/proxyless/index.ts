/**
 * The proxyless gRPC flavour, emitted from the plan (mesh.ts) when a gRPC client or server asks
 * for a name: gRPC chooses its Listener names (`<host>:<port>` for any of a service's ten host
 * names, `grpc/server?...=<ip>:<port>` for any address), so they cannot be emitted ahead for
 * every proxy; clusters and endpoints could, but would double every proxy's CDS and EDS for the
 * few streams that are gRPC. See client.ts and server.ts for what each flavour carries.
 *
 * One emitter per ProxylessMesh (per snapshot): it owns the lookups it builds, nothing global.
 */
import type { UpstreamCluster } from '../../ir/proxy-plan.ts';
import { TYPE_URL } from '../types.ts';
import type { EnvoyResource } from '../types.ts';
import { apiListener, clientCluster, clientEndpoints, clientRouteConfiguration } from './client.ts';
import type { ProxylessMesh, ProxylessProxy } from './mesh.ts';
import { serverListener, serverRouteConfiguration } from './server.ts';
import { parseApiListenerName, parseServerListenerName } from './targets.ts';

export {
  lazyProxylessMesh,
  packProxylessMesh,
  proxylessMesh,
  proxylessMeshOf,
  unpackProxylessMesh,
  type LazyProxylessMesh,
  type ProxylessMesh,
  type ProxylessProxy,
} from './mesh.ts';
export { parseApiListenerName, parseServerListenerName, type ApiListenerTarget, type ServerListenerTarget } from './targets.ts';
export { apiListener, clientCluster, clientEndpoints, clientRouteConfiguration } from './client.ts';
export { serverListener, serverRouteConfiguration } from './server.ts';

/** A Listener request by a name only gRPC uses: `<host>:<port>` or the gRPC server template. */
export function isProxylessListenerName(name: string): boolean {
  return parseApiListenerName(name) !== undefined || parseServerListenerName(name) !== undefined;
}

export class ProxylessEmitter {
  /** Upstreams by cluster name, per upstream list (proxies of one service account share theirs). */
  private readonly upstreamIndex = new WeakMap<readonly UpstreamCluster[], ReadonlyMap<string, UpstreamCluster>>();

  constructor(private readonly mesh: ProxylessMesh) {}

  /** The named resource of type `typeUrl` for the proxy `nodeId`, or undefined when it has none by that name. */
  resource(nodeId: string, typeUrl: string, name: string, tlsInstance: string | undefined): EnvoyResource | undefined {
    const proxy = this.mesh.proxies.get(nodeId);
    if (!proxy) return undefined;
    switch (typeUrl) {
      case TYPE_URL.listeners: {
        const server = parseServerListenerName(name);
        if (server) return serverListener(proxy, server, tlsInstance);
        const target = parseApiListenerName(name);
        // The listener exists exactly when its route configuration does (the client may call the service).
        return target && clientRouteConfiguration(this.mesh, proxy, target) ? apiListener(target) : undefined;
      }
      case TYPE_URL.routes: {
        const server = parseServerListenerName(name);
        if (server) return serverRouteConfiguration(proxy, server);
        const target = parseApiListenerName(name);
        return target ? clientRouteConfiguration(this.mesh, proxy, target) : undefined;
      }
      case TYPE_URL.clusters: {
        const upstream = this.upstream(proxy, name);
        return upstream ? clientCluster(upstream, tlsInstance) : undefined;
      }
      case TYPE_URL.endpoints: {
        const upstream = this.upstream(proxy, name);
        return upstream ? clientEndpoints(upstream) : undefined;
      }
      default:
        return undefined; // no secrets: gRPC takes certificates from its bootstrap's providers
    }
  }

  /**
   * The names a wildcard subscription of the type gets: the upstream clusters for CDS and EDS,
   * nothing for LDS and RDS (API listeners exist only for the names asked). Sorted.
   */
  names(nodeId: string, typeUrl: string): readonly string[] {
    const proxy = this.mesh.proxies.get(nodeId);
    if (!proxy || (typeUrl !== TYPE_URL.clusters && typeUrl !== TYPE_URL.endpoints)) return [];
    return proxy.upstreams.map((u) => u.name);
  }

  private upstream(proxy: ProxylessProxy, name: string): UpstreamCluster | undefined {
    let index = this.upstreamIndex.get(proxy.upstreams);
    if (!index) this.upstreamIndex.set(proxy.upstreams, (index = new Map(proxy.upstreams.map((u) => [u.name, u]))));
    return index.get(name);
  }
}
