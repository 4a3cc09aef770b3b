/**
 * The namespace-local passes, run one namespace at a time and merged.
 *
 * Duplicates, identity, regex and HTTP-match checks, binding and access resolution never look across a
 * namespace: a Service selects workloads and owns endpoints of its own namespace, a workload's
 * service account and controller are in its namespace, a TrafficTarget applies only in its
 * destination's namespace and names route groups of its own, and a duplicate shares namespace
 * and name. So each namespace is a shard whose results depend on its resources alone, and
 * `serve --watch` (with a PassMemo) reuses the results of every namespace an edit did not
 * touch: same resource objects in, the same binding, rule and diagnostic objects out, which is
 * what lets the planner and emit recognise unchanged work by identity. What does look across
 * namespaces (splits, the outbound plans) runs after the merge.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { asMeshLists, LIST_OF_KIND, MESH_LISTS, type Mesh, type MeshLists, type Resource, type Workload } from '../ir/types.ts';
import { resolveAccess, type AccessMesh, type AccessRule } from './access.ts';
import { bind, type ServiceBinding } from './bind.ts';
import { pushTo } from './collections.ts';
import { compareStrings } from '../shared/compare.ts';
import type { PassContext } from './context.ts';
import { reportDuplicates } from './duplicates.ts';
import { checkIdentities } from './identities.ts';
import { validateHttpMatches } from './validate-http-matches.ts';
import { validateRegexes } from './validate-regex.ts';

/**
 * One namespace's resources, and what identifies them: while `key` holds the same objects in
 * the same order, the resources are the same. Partitioning the mesh keys a namespace by its
 * resources; the compile memo keys it by the files that hold them (src/compiler/compile-memo.ts),
 * so an unchanged namespace costs a look at a few files, not at each of its resources.
 */
export interface NamespaceInput {
  readonly key: readonly object[];
  readonly lists: () => MeshLists;
}

/** One namespace's resources, and what the local passes made of them. */
export interface NamespaceShard {
  readonly namespace: string;
  readonly key: readonly object[];
  /** The mesh settings it ran under (the identity check reads the trust domain). */
  readonly settings: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly result: AccessMesh;
}

/** The previous compile's shards, by namespace: what `runNamespacePasses` may reuse. */
export type ShardMemo = Map<string, NamespaceShard>;

/** Resources by namespace (cluster-scoped ones under ''), then by list (MESH_LISTS order), in input order. */
export function groupByNamespace(resources: Iterable<Resource>): Map<string, Resource[][]> {
  const byNamespace = new Map<string, Resource[][]>();
  for (const r of resources) {
    let lists = byNamespace.get(r.meta.namespace);
    if (!lists) byNamespace.set(r.meta.namespace, (lists = MESH_LISTS.map(() => [])));
    lists[LIST_OF_KIND[r.kind]].push(r);
  }
  return byNamespace;
}

/** The mesh's namespaces, each keyed by its resources. */
function partitionMesh(mesh: Mesh): Map<string, NamespaceInput> {
  const out = new Map<string, NamespaceInput>();
  const all = MESH_LISTS.flatMap((list) => mesh[list] as readonly Resource[]);
  for (const [namespace, lists] of groupByNamespace(all)) out.set(namespace, { key: lists.flat(), lists: () => asMeshLists(lists) });
  return out;
}

function settingsKey(settings: Mesh['settings']): string {
  return `${settings.trustDomain}|${settings.permissive}`;
}

function sameKey(a: readonly object[], b: readonly object[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function runShard(namespace: string, key: readonly object[], input: MeshLists, settings: Mesh['settings'], ctx: PassContext): NamespaceShard {
  const diagnostics: Diagnostic[] = [];
  const local: PassContext = { ...ctx, report: (d) => diagnostics.push(d) };
  const mesh: Mesh = { settings, ...input };
  const checked = reportDuplicates(mesh, local);
  checkIdentities(checked, local);
  validateRegexes(checked, local);
  validateHttpMatches(checked, local);
  const result = resolveAccess(bind(checked, local), local);
  return { namespace, key, settings: settingsKey(settings), diagnostics, result };
}

/**
 * Runs the namespace-local passes over every namespace (reusing `memo`'s shard for a namespace
 * whose resources are the same objects) and merges them into one mesh, as if they had run over
 * the whole mesh at once. `next` receives this compile's shards. `known`: the mesh's
 * namespaces, when the caller knows them already (they must partition `mesh` exactly).
 */
export function runNamespacePasses(
  mesh: Mesh,
  ctx: PassContext,
  memo?: ShardMemo,
  next?: ShardMemo,
  known?: ReadonlyMap<string, NamespaceInput>,
): AccessMesh {
  // Nothing to reuse and nothing to keep: the whole mesh is one shard (same results, no partition or merge).
  if (!memo && !next) {
    const whole = runShard('', [], mesh, mesh.settings, ctx);
    for (const d of whole.diagnostics) ctx.report(d);
    return { ...mesh, ...whole.result };
  }
  const shards: NamespaceShard[] = [];
  const namespaces = [...(known ?? partitionMesh(mesh))].sort(([a], [b]) => compareStrings(a, b));
  for (const [namespace, input] of namespaces) {
    const earlier = memo?.get(namespace);
    const reusable = earlier && earlier.settings === settingsKey(mesh.settings) && sameKey(earlier.key, input.key);
    const shard = reusable ? earlier : runShard(namespace, input.key, input.lists(), mesh.settings, ctx);
    next?.set(namespace, shard);
    shards.push(shard);
  }
  for (const shard of shards) for (const d of shard.diagnostics) ctx.report(d);
  return merge(mesh, shards);
}

/** The shards' tables as one: keys never collide (each is namespaced), lists concatenate in namespace order. */
function merge(mesh: Mesh, shards: readonly NamespaceShard[]): AccessMesh {
  const services = new Map<string, ServiceBinding>();
  const workloads: Workload[] = [];
  const servicesOfWorkload = new Map<Workload, readonly ServiceBinding[]>();
  const servicesOfServiceAccount = new Map<string, readonly ServiceBinding[]>();
  const workloadsOfServiceAccount = new Map<string, readonly Workload[]>();
  const rules: AccessRule[] = [];
  const byDestination = new Map<string, readonly AccessRule[]>();
  const bySource = new Map<string, AccessRule[]>();
  for (const { result } of shards) {
    const b = result.bindings;
    for (const [k, v] of b.services) services.set(k, v);
    for (const w of b.workloads) workloads.push(w);
    for (const [k, v] of b.servicesOfWorkload) servicesOfWorkload.set(k, v);
    for (const [k, v] of b.servicesOfServiceAccount) servicesOfServiceAccount.set(k, v);
    for (const [k, v] of b.workloadsOfServiceAccount) workloadsOfServiceAccount.set(k, v);
    for (const r of result.access.rules) rules.push(r);
    for (const [k, v] of result.access.byDestination) byDestination.set(k, v);
    // Sources come from any namespace: the only table whose lists span shards.
    for (const r of result.access.rules) for (const s of r.sources) pushTo(bySource, s, r);
  }
  return {
    ...mesh,
    bindings: { services, workloads, servicesOfWorkload, servicesOfServiceAccount, workloadsOfServiceAccount },
    access: { rules, byDestination, bySource },
  };
}
