/**
 * Snapshot building, the part the server's thread and the compile worker share: each proxy's
 * resources by type and name, in emit order, with the proxy's version, and SMI9001 for a resource
 * that does not encode. What a resource becomes is the caller's: an `EncodedResource` interned in
 * the server (snapshot.ts `buildSnapshot`), a version in the worker, which encodes only what the
 * server does not hold yet (compile-worker.ts). Both give the same versions, maps and order.
 */
import { diagnostic, type Diagnostic } from '../../diagnostics/diagnostic.ts';
import { resourceName, TYPE_URL, XDS_KINDS, type EnvoyResource, type ProxyConfig } from '../../emit/types.ts';
import { setVersion } from '../../emit/versions.ts';

/** A resource's version (its content hash). */
export const versionOf = (r: { readonly version: string }): string => r.version;

export interface EncodedProxy<R> {
  /** typeUrl → name → resource, in XDS_KINDS and then emit order (a later name replaces an earlier one in place). */
  readonly byType: Map<string, Map<string, R>>;
  /** Every resource of the proxy, once per name and type. */
  readonly all: R[];
  /** Hash over every resource: equal versions, nothing to push. */
  readonly version: string;
}

/**
 * One proxy's resources. `encode` throws when a resource does not fit its proto: the resource is
 * left out and a proto-encode diagnostic (SMI9001) added to `diagnostics`, which fails the build.
 */
export function encodeProxy<R>(
  config: ProxyConfig,
  encode: (typeUrl: string, json: EnvoyResource) => R,
  versionOf: (r: R) => string,
  diagnostics: Diagnostic[],
): EncodedProxy<R> {
  const byType = new Map<string, Map<string, R>>();
  const all: R[] = [];
  const versions: { name: string; version: string }[] = [];
  for (const kind of XDS_KINDS) {
    const typeUrl = TYPE_URL[kind];
    const named = new Map<string, R>();
    for (const json of config.resources[kind] ?? []) {
      try {
        named.set(resourceName(json), encode(typeUrl, json));
      } catch (err) {
        diagnostics.push(
          diagnostic('proto-encode', { typeName: typeUrl.replace(/^.*\//, ''), name: resourceName(json), detail: err instanceof Error ? err.message : String(err) }),
        );
      }
    }
    for (const [name, r] of named) {
      all.push(r);
      versions.push({ name: `${typeUrl}/${name}`, version: versionOf(r) });
    }
    byType.set(typeUrl, named);
  }
  return { byType, all, version: setVersion(versions) };
}

/** The snapshot's version, over every proxy's: identical input, identical version on every replica. */
export function snapshotVersion(proxies: Iterable<{ readonly nodeId: string; readonly version: string }>): string {
  const versions: { name: string; version: string }[] = [];
  for (const p of proxies) versions.push({ name: p.nodeId, version: p.version });
  return setVersion(versions);
}
