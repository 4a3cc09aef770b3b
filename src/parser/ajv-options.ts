/**
 * How schemas are compiled, shared by the validator generator (schemas/generate-validators.ts)
 * and anything that compiles a schema at run time (tests).
 *
 * allErrors: report every problem of a document in one run, not one per run.
 * verbose: errors carry their schema, which the unknown-field hints need.
 */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;

/** A schema file as compiled: its title and comment are documentation, not constraints. */
export function compiledSchemaOf(text: string): Record<string, unknown> {
  const { title: _title, $comment: _comment, ...schema } = JSON.parse(text) as Record<string, unknown>;
  return schema;
}
