/**
 * Schema-checked manifests → the Mesh IR. One builder per kind family; each normalises every
 * accepted version of its kinds, so nothing after this point knows about API versions.
 */
import { diagnostic, type Diagnostic, type Reporter } from '../../diagnostics/diagnostic.ts';
import type { ManifestDocument } from '../../parser/parse.ts';
import { asMeshLists, groupByList, type InvalidObject, type Mesh, type MeshLists, type Resource } from '../types.ts';
import { DEFAULT_NAMESPACE } from './common.ts';
import { buildEndpoints, buildEndpointSlice } from './endpoints.ts';
import { buildService } from './kubernetes-services.ts';
import { buildController, buildNamespace, buildPod, buildServiceAccount } from './kubernetes-workloads.ts';
import { invalidObject, nameDiagnostics, ownNameDiagnostics } from './names.ts';
import { buildMeshConfig, meshSettings } from './osm-meshconfig.ts';
import { buildTrafficTarget } from './smi-access.ts';
import { buildTrafficSplit } from './smi-split.ts';
import { buildHttpRouteGroup, buildTcpRoute, buildUdpRoute } from './smi-specs.ts';
import { positionOf } from '../../parser/origin.ts';

export interface BuildOptions {
  /** Overrides the MeshConfig's trust domain. */
  trustDomain?: string;
}

/**
 * One document → its IR resource (undefined when it has none: the reporter says why). A document
 * its schema refused, or one with a name Kubernetes would refuse, becomes an InvalidObject:
 * nothing is built from it, and references to it can say it is invalid.
 */
export function buildResource(doc: ManifestDocument, reporter: Reporter): Resource | undefined {
  if (doc.refused) return refusedObject(doc, doc.refused, reporter);
  const r = buildKind(doc, reporter);
  if (!r || r.kind === 'Invalid') return r;
  const bad = nameDiagnostics(r);
  if (bad.length === 0) return r;
  for (const d of bad) reporter.report(d);
  return invalidObject(r, bad[0]);
}

/**
 * A schema-refused document as an InvalidObject, when it has a name to be referred to by; its
 * own name and namespace are checked too, so that every bad name is reported in one run.
 */
function refusedObject(doc: ManifestDocument, problem: Diagnostic, reporter: Reporter): InvalidObject | undefined {
  const metadata = doc.value.metadata as { name?: unknown; namespace?: unknown } | undefined;
  if (typeof metadata?.name !== 'string') return undefined;
  const namespace = doc.kind === 'Namespace' ? '' : typeof metadata.namespace === 'string' ? metadata.namespace : DEFAULT_NAMESPACE;
  const meta = { name: metadata.name, namespace, labels: {}, annotations: {} };
  const named = { kind: doc.kind as Resource['kind'], apiVersion: doc.apiVersion, meta, origin: doc.origin };
  for (const d of ownNameDiagnostics(named)) reporter.report(d);
  return invalidObject(named, problem);
}

function buildKind(doc: ManifestDocument, reporter: Reporter): Resource | undefined {
  switch (doc.kind) {
    case 'Namespace': return buildNamespace(doc);
    case 'ServiceAccount': return buildServiceAccount(doc);
    case 'Service': return buildService(doc);
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet': return buildController(doc, doc.kind);
    case 'Pod': return buildPod(doc);
    case 'Endpoints': return buildEndpoints(doc);
    case 'EndpointSlice': return buildEndpointSlice(doc, reporter);
    case 'TrafficTarget': return buildTrafficTarget(doc);
    case 'HTTPRouteGroup': return buildHttpRouteGroup(doc);
    case 'TCPRoute': return buildTcpRoute(doc);
    case 'UDPRoute': return buildUdpRoute(doc);
    case 'TrafficSplit': return buildTrafficSplit(doc);
    case 'MeshConfig': return buildMeshConfig(doc);
    // The parser only hands on kinds it knows; anything else is our bug, not the input's.
    default:
      reporter.report(diagnostic('internal-error', { detail: `no IR builder for ${doc.apiVersion} ${doc.kind}` }, positionOf(doc.origin)));
      return undefined;
  }
}

/**
 * Built resources → the Mesh, each kind in input order, and the mesh-wide settings. Apart from
 * the settings nothing here looks at two documents at once, so a caller may build each document
 * once and assemble again after an edit (src/compiler/compile-memo.ts, with `meshFromLists`).
 */
function assembleMesh(resources: Iterable<Resource>, reporter: Reporter, options: BuildOptions): Mesh {
  return meshFromLists(asMeshLists(groupByList(resources)), reporter, options);
}

/** Resource lists → the Mesh: the lists as they are, and the settings their MeshConfigs decide. */
export function meshFromLists(lists: MeshLists, reporter: Reporter, options: BuildOptions): Mesh {
  return { settings: meshSettings(lists.meshConfigs, options, reporter), ...lists };
}

/** Resources keep the order of the input (files sorted, documents in file order). */
export function buildMesh(docs: readonly ManifestDocument[], reporter: Reporter, options: BuildOptions): Mesh {
  const resources: Resource[] = [];
  for (const doc of docs) {
    const r = buildResource(doc, reporter);
    if (r) resources.push(r);
  }
  return assembleMesh(resources, reporter, options);
}
