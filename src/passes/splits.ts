/**
 * Resolves TrafficSplits: the apex service and its weighted backends. A caller that may reach
 * the apex sends its traffic to the backends instead, each on its own target port.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { serviceKeyFromName } from '../ir/names.ts';
import { keyOf, type TrafficSplit } from '../ir/types.ts';
import type { AccessMesh } from './access.ts';
import type { ServiceBinding } from './bind.ts';
import { byNamespaceAndName } from './collections.ts';
import { at, refOf, type PassContext } from './context.ts';
import { indexInvalid, reportedAsInvalid } from './invalid-references.ts';
import { keyPositionOf } from '../parser/origin.ts';

/**
 * Envoy's weights (route and tcp_proxy weighted clusters) are uint32, and so is their sum
 * (gRPC checks the same): one more and the whole route configuration is rejected.
 */
export const MAX_SPLIT_WEIGHT = 4_294_967_295;

/** `ns/name` → its two parts (namespaces have no `/`). */
function keyParts(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

export interface ResolvedBackend {
  readonly binding: ServiceBinding;
  readonly weight: number;
}

export interface ResolvedSplit {
  readonly split: TrafficSplit;
  readonly apex: ServiceBinding;
  readonly backends: readonly ResolvedBackend[];
}

export interface SplitMesh extends AccessMesh {
  /** By apex `ns/name`. */
  readonly splits: ReadonlyMap<string, ResolvedSplit>;
}

export function resolveSplits(mesh: AccessMesh, ctx: PassContext): SplitMesh {
  const services = mesh.bindings.services;
  const invalid = indexInvalid(mesh);
  const splits = new Map<string, ResolvedSplit>();
  const seen = new Set<string>();
  for (const split of [...mesh.trafficSplits].sort(byNamespaceAndName)) {
    const splitKey = keyOf(split.meta.namespace, split.meta.name);
    if (seen.has(splitKey)) continue; // duplicate, reported by the duplicates pass
    seen.add(splitKey);
    const ns = split.meta.namespace;
    const apexKey = serviceKeyFromName(split.service, ns);
    const apex = services.get(apexKey);
    if (!apex) {
      if (!reportedAsInvalid(invalid, 'Service', ...keyParts(apexKey), split, ['spec', 'service'], ctx)) {
        ctx.report(diagnostic('missing-split-apex', { split: split.meta.name, service: split.service }, at(split, ['spec', 'service']), refOf(split)));
      }
      continue;
    }
    const earlier = splits.get(apexKey);
    if (earlier) {
      ctx.report(
        diagnostic(
          'split-duplicate-apex',
          { split: split.meta.name, service: split.service, other: `${earlier.split.meta.namespace}/${earlier.split.meta.name}` },
          at(split, ['spec', 'service']),
          refOf(split),
        ),
      );
      continue;
    }
    const backends: ResolvedBackend[] = [];
    let total = 0;
    let broken = false;
    for (const backend of split.backends) {
      const backendKey = serviceKeyFromName(backend.service, ns);
      if (backend.weight < 0) {
        ctx.report(
          diagnostic('split-negative-weight', { split: split.meta.name, service: backend.service, weight: backend.weight }, at(split, [...backend.path, 'weight']), refOf(split)),
        );
        broken = true;
        continue;
      }
      if (backend.weight > MAX_SPLIT_WEIGHT) {
        ctx.report(
          diagnostic(
            'split-weight-too-large',
            { split: split.meta.name, service: backend.service, weight: backend.weight, limit: MAX_SPLIT_WEIGHT },
            at(split, [...backend.path, 'weight']),
            refOf(split),
          ),
        );
        broken = true;
        continue;
      }
      if (backendKey === apexKey) {
        ctx.report(diagnostic('split-apex-is-backend', { split: split.meta.name, service: backend.service }, at(split, [...backend.path, 'service']), refOf(split)));
        broken = true;
        continue;
      }
      const binding = services.get(backendKey);
      if (!binding) {
        if (!reportedAsInvalid(invalid, 'Service', ...keyParts(backendKey), split, [...backend.path, 'service'], ctx)) {
          ctx.report(diagnostic('missing-split-backend', { split: split.meta.name, service: backend.service }, at(split, [...backend.path, 'service']), refOf(split)));
        }
        broken = true;
        continue;
      }
      for (const apexPort of apex.ports) {
        const backendPort = binding.ports.find((p) => p.port.port === apexPort.port.port);
        if (backendPort && backendPort.port.protocol !== apexPort.port.protocol) {
          ctx.report(
            diagnostic(
              'split-protocol-mismatch',
              { split: split.meta.name, port: apexPort.port.port, apexProtocol: apexPort.port.protocol, service: backend.service, protocol: backendPort.port.protocol },
              at(split, [...backend.path, 'service']),
              refOf(split),
            ),
          );
        }
        if (!backendPort) {
          ctx.report(
            diagnostic(
              'split-backend-port-mismatch',
              { split: split.meta.name, service: backend.service, port: apexPort.port.port },
              at(split, [...backend.path, 'service']),
              refOf(split),
            ),
          );
        }
      }
      total += backend.weight;
      backends.push({ binding, weight: backend.weight });
    }
    // Whether or not another backend was refused: the ones left would still overflow.
    if (total > MAX_SPLIT_WEIGHT) {
      ctx.report(
        diagnostic('split-weight-sum-too-large', { split: split.meta.name, sum: total, limit: MAX_SPLIT_WEIGHT }, keyPositionOf(split.origin, ['spec', 'backends']), refOf(split)),
      );
      continue;
    }
    if (!broken && backends.length > 0 && total === 0) {
      ctx.report(diagnostic('split-zero-weight', { split: split.meta.name }, keyPositionOf(split.origin, ['spec', 'backends']), refOf(split)));
      continue;
    }
    if (backends.length === 0 || total === 0) continue;
    splits.set(apexKey, { split, apex, backends });
  }
  return { ...mesh, splits };
}
