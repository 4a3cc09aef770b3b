/**
 * The passes, in order. Each reads the IR and returns a richer one, reporting problems to the
 * context instead of throwing, so one run reports every problem it can find.
 *
 * The namespace-local passes run per namespace (namespaces.ts); splits and the plan look
 * across namespaces and run on the merged result. A PassMemo carries one compile's work to the
 * next (`serve --watch`): see namespaces.ts and plan-memo.ts for what is reused and when.
 */
import type { Mesh } from '../ir/types.ts';
import { reportPermissiveTargets } from './access.ts';
import type { PassContext } from './context.ts';
import { runNamespacePasses, type NamespaceInput, type ShardMemo } from './namespaces.ts';
import { planProxies, type PlannedMesh } from './plan.ts';
import { PlanMemo } from './plan-memo.ts';
import { resolveSplits, type ResolvedSplit, type SplitMesh } from './splits.ts';

/** One compile's pass results, for the next compile to reuse what its edit did not touch. */
export class PassMemo {
  shards: ShardMemo = new Map();
  plan = new PlanMemo();
  /** Namespaces whose local passes ran again in the last compile (the rest were reused). */
  rerunNamespaces: string[] = [];
}

/** `namespaces`: the mesh's resources by namespace, when the caller has them (see runNamespacePasses). */
export function runPasses(mesh: Mesh, ctx: PassContext, memo?: PassMemo, namespaces?: ReadonlyMap<string, NamespaceInput>): PlannedMesh {
  const shards: ShardMemo | undefined = memo ? new Map() : undefined;
  const local = runNamespacePasses(mesh, ctx, memo?.shards, shards, namespaces);
  reportPermissiveTargets(mesh, ctx);
  const withSplits = resolveSplits(local, ctx);
  const nextPlan = memo ? new PlanMemo() : undefined;
  const stable = memo ? withStableSplits(withSplits, memo.plan.splits, nextPlan!.splits) : withSplits;
  const planned = planProxies(stable, ctx, memo?.plan, nextPlan);
  if (memo) {
    memo.rerunNamespaces = [...shards!].filter(([ns, shard]) => memo.shards.get(ns) !== shard).map(([ns]) => ns);
    memo.shards = shards!;
    memo.plan = nextPlan!;
  }
  return planned;
}

/**
 * Splits are resolved afresh every compile (they are few, and cheap to resolve),
 * then each is replaced by the previous compile's object when it resolved to the same split,
 * apex, backends and weights: the plans that read it are then reused (plan-memo.ts).
 */
function withStableSplits(mesh: SplitMesh, previous: ReadonlyMap<string, ResolvedSplit>, next: Map<string, ResolvedSplit>): SplitMesh {
  for (const [apex, split] of mesh.splits) {
    const earlier = previous.get(apex);
    const same =
      earlier !== undefined &&
      earlier.split === split.split &&
      earlier.apex === split.apex &&
      earlier.backends.length === split.backends.length &&
      earlier.backends.every((b, i) => b.binding === split.backends[i].binding && b.weight === split.backends[i].weight);
    next.set(apex, same ? earlier : split);
  }
  return { ...mesh, splits: next };
}

export type { PlannedMesh } from './plan.ts';
export type { PassContext } from './context.ts';
