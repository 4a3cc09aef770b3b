/**
 * What one stream sees of the snapshot: the sidecar flavour (the proxy's resources as
 * emitted) or the proxyless flavour (emitted from the plans on demand: emit/proxyless).
 *
 * The flavour is a property of the stream, not of a resource name: a sidecar and a gRPC
 * client of the same workload both ask for cluster `<ns>/<svc>|<port>`, and must get different
 * clusters (with and without the sidecar's mTLS socket).
 */
import type { NodeMessage } from '../xds/ads-service.ts';
import { isProxylessListenerName, ProxylessEmitter } from '../../emit/proxyless/index.ts';
import { memoize } from '../snapshot/snapshot.ts';
import { resourceSet } from '../snapshot/resource-set.ts';
import type { EncodedResource, ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import type { ResourceInterner } from '../snapshot/interner.ts';
import type { SecretSource } from '../security/secrets.ts';
import { LDS, SDS } from '../xds/type-urls.ts';
import type { Flavour, View } from '../xds/flavour.ts';


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
  for (const n of names) if (isProxylessListenerName(n)) return true;
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
 * The proxyless view: resources emitted from the snapshot's plans (emit/proxyless) when first
 * asked, memoised on the snapshot and interned, so a thousand gRPC clients of one workload
 * share each resource's bytes. A snapshot without plans (hand-made configs) has none.
 */
export function proxylessView(snapshot: Snapshot, proxy: ProxySnapshot, interner: ResourceInterner, tlsInstance?: string): View {
  const lazy = snapshot.proxyless;
  const emitter = lazy ? memoize(snapshot, 'proxyless:emitter', () => new ProxylessEmitter(lazy())) : undefined;
  const get = (typeUrl: string, name: string): EncodedResource | undefined =>
    emitter
      ? memoize(snapshot, `proxyless|${tlsInstance ?? ''}|${proxy.nodeId}|${typeUrl}|${name}`, () => {
          const json = emitter.resource(proxy.nodeId, typeUrl, name, tlsInstance);
          return json ? interner.internDerived(typeUrl, json) : undefined;
        })
      : undefined;
  return {
    get,
    all: (typeUrl) => {
      const out: EncodedResource[] = [];
      for (const name of emitter?.names(proxy.nodeId, typeUrl) ?? []) {
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
