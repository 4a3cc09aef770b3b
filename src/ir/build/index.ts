/**
 * Schema-checked manifests → the Mesh IR. One builder per kind family; each normalises every
 * accepted version of its kinds, so nothing after this point knows about API versions.
 */
import { diagnostic, type Reporter } from '../../diagnostics/diagnostic.ts';
import type { ManifestDocument } from '../../parser/parse.ts';
import type {
  EndpointSet, HttpRouteGroup, Mesh, MeshConfig, Namespace, Service, ServiceAccount, TcpRoute, TrafficSplit,
  TrafficTarget, UdpRoute, Workload,
} from '../types.ts';
import { buildEndpoints, buildEndpointSlice } from './endpoints.ts';
import { buildService } from './kubernetes-services.ts';
import { buildController, buildNamespace, buildPod, buildServiceAccount } from './kubernetes-workloads.ts';
import { buildMeshConfig, meshSettings } from './osm-meshconfig.ts';
import { buildTrafficTarget } from './smi-access.ts';
import { buildTrafficSplit } from './smi-split.ts';
import { buildHttpRouteGroup, buildTcpRoute, buildUdpRoute } from './smi-specs.ts';

export interface BuildOptions {
  /** Overrides the MeshConfig's trust domain. */
  trustDomain?: string;
}

/** Resources keep the order of the input (files sorted, documents in file order). */
export function buildMesh(docs: ManifestDocument[], reporter: Reporter, options: BuildOptions): Mesh {
  const namespaces: Namespace[] = [];
  const serviceAccounts: ServiceAccount[] = [];
  const services: Service[] = [];
  const workloads: Workload[] = [];
  const endpointSets: EndpointSet[] = [];
  const trafficTargets: TrafficTarget[] = [];
  const httpRouteGroups: HttpRouteGroup[] = [];
  const tcpRoutes: TcpRoute[] = [];
  const udpRoutes: UdpRoute[] = [];
  const trafficSplits: TrafficSplit[] = [];
  const meshConfigs: MeshConfig[] = [];

  for (const doc of docs) {
    switch (doc.kind) {
      case 'Namespace': namespaces.push(buildNamespace(doc)); break;
      case 'ServiceAccount': serviceAccounts.push(buildServiceAccount(doc)); break;
      case 'Service': services.push(buildService(doc)); break;
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
      case 'ReplicaSet': workloads.push(buildController(doc, doc.kind)); break;
      case 'Pod': workloads.push(buildPod(doc)); break;
      case 'Endpoints': endpointSets.push(buildEndpoints(doc)); break;
      case 'EndpointSlice': {
        const set = buildEndpointSlice(doc, reporter);
        if (set) endpointSets.push(set);
        break;
      }
      case 'TrafficTarget': trafficTargets.push(buildTrafficTarget(doc)); break;
      case 'HTTPRouteGroup': httpRouteGroups.push(buildHttpRouteGroup(doc)); break;
      case 'TCPRoute': tcpRoutes.push(buildTcpRoute(doc)); break;
      case 'UDPRoute': udpRoutes.push(buildUdpRoute(doc)); break;
      case 'TrafficSplit': trafficSplits.push(buildTrafficSplit(doc)); break;
      case 'MeshConfig': meshConfigs.push(buildMeshConfig(doc)); break;
      // The parser only hands on kinds it knows; anything else is our bug, not the input's.
      default:
        reporter.report(diagnostic('SMI9002', { detail: `no IR builder for ${doc.apiVersion} ${doc.kind}` }, doc.origin.position));
    }
  }

  return {
    settings: meshSettings(meshConfigs, options, reporter),
    namespaces,
    serviceAccounts,
    services,
    workloads,
    endpointSets,
    trafficTargets,
    httpRouteGroups,
    tcpRoutes,
    udpRoutes,
    trafficSplits,
    meshConfigs,
  };
}
