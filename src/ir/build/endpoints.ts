/**
 * Endpoints (core/v1) and EndpointSlices (discovery.k8s.io/v1) → one normalised shape: the
 * addresses of one Service, each marked ready or not.
 */
import { diagnostic, type Reporter } from '../../diagnostics/diagnostic.ts';
import type { ManifestDocument } from '../../parser/parse.ts';
import { keyOf, type EndpointAddress, type EndpointSet } from '../types.ts';
import { base } from './common.ts';
import { SERVICE_NAME_LABEL } from './names.ts';
import { positionOf } from '../../parser/origin.ts';

type Port = EndpointSet['ports'][number];

interface RawTargetRef {
  kind?: string;
  name?: string;
}

interface RawEndpointAddress {
  ip: string;
  hostname?: string;
  targetRef?: RawTargetRef;
}

interface RawSubset {
  addresses?: RawEndpointAddress[];
  notReadyAddresses?: RawEndpointAddress[];
  ports?: { name?: string; port: number; protocol?: string }[];
}

/**
 * An Endpoints object is named after its Service. Its subsets are flattened: the IR keeps
 * one port list per service, which is what the proxy's ClusterLoadAssignment needs.
 */
export function buildEndpoints(doc: ManifestDocument): EndpointSet {
  const resource = base(doc, 'Endpoints');
  const subsets = (doc.value.subsets ?? []) as RawSubset[];
  const ports: Port[] = [];
  const addresses: EndpointAddress[] = [];
  for (const subset of subsets) {
    for (const p of subset.ports ?? []) addPort(ports, p.name, p.port, p.protocol);
    for (const a of subset.addresses ?? []) addresses.push(address(a.ip, true, a.hostname, a.targetRef));
    for (const a of subset.notReadyAddresses ?? []) addresses.push(address(a.ip, false, a.hostname, a.targetRef));
  }
  return { ...resource, service: keyOf(resource.meta.namespace, resource.meta.name), ports, addresses };
}

interface RawSliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean };
  hostname?: string;
  targetRef?: RawTargetRef;
}


/** An EndpointSlice names its Service in a label; one without it belongs to no Service. */
export function buildEndpointSlice(doc: ManifestDocument, reporter: Reporter): EndpointSet | undefined {
  const resource = base(doc, 'EndpointSlice');
  const service = resource.meta.labels[SERVICE_NAME_LABEL];
  if (!service) {
    reporter.report(
      diagnostic('endpointslice-without-service', { namespace: resource.meta.namespace, name: resource.meta.name }, positionOf(doc.origin, ['metadata']), {
        kind: 'EndpointSlice',
        namespace: resource.meta.namespace,
        name: resource.meta.name,
      }),
    );
    return undefined;
  }
  const ports: Port[] = [];
  for (const p of (doc.value.ports ?? []) as { name?: string; port?: number; protocol?: string }[]) {
    // A port without a number means "all ports" in the API; nothing a proxy can use.
    if (p.port !== undefined) addPort(ports, p.name, p.port, p.protocol);
  }
  const addresses: EndpointAddress[] = [];
  for (const e of (doc.value.endpoints ?? []) as RawSliceEndpoint[]) {
    // The API documents an unset `ready` as "unknown, treat as ready".
    const ready = e.conditions?.ready ?? true;
    for (const ip of e.addresses) addresses.push(address(ip, ready, e.hostname, e.targetRef));
  }
  return { ...resource, service: keyOf(resource.meta.namespace, service), ports, addresses };
}

function addPort(ports: Port[], name: string | undefined, port: number, protocol: string | undefined): void {
  if (ports.some((p) => p.name === name && p.port === port)) return;
  const entry: Port = { port, protocol: protocol ?? 'TCP' };
  ports.push(name === undefined ? entry : { name, ...entry });
}

function address(ip: string, ready: boolean, hostname?: string, targetRef?: RawTargetRef): EndpointAddress {
  const out: { ip: string; ready: boolean; hostname?: string; podName?: string } = { ip, ready };
  if (hostname) out.hostname = hostname;
  if (targetRef?.kind === 'Pod' && targetRef.name) out.podName = targetRef.name;
  return out;
}
