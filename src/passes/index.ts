/**
 * The passes, in order. Each reads the IR and returns a richer one, reporting problems to the
 * context instead of throwing, so one run reports every problem it can find.
 */
import type { Mesh } from '../ir/types.ts';
import { resolveAccess } from './access.ts';
import { bind } from './bind.ts';
import type { PassContext } from './context.ts';
import { reportDuplicates } from './duplicates.ts';
import { planProxies, type PlannedMesh } from './plan.ts';
import { resolveSplits } from './splits.ts';
import { validateHttpMatches } from './validate-http-matches.ts';
import { validateRegexes } from './validate-regex.ts';

export function runPasses(mesh: Mesh, ctx: PassContext): PlannedMesh {
  const checked = reportDuplicates(mesh, ctx);
  validateRegexes(checked, ctx, ctx.sourceText);
  validateHttpMatches(checked, ctx);
  const bound = bind(checked, ctx);
  const withAccess = resolveAccess(bound, ctx);
  const withSplits = resolveSplits(withAccess, ctx);
  return planProxies(withSplits, ctx);
}

export type { PlannedMesh } from './plan.ts';
export type { PassContext } from './context.ts';
