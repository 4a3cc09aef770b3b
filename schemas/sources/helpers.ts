/**
 * Small builders for the hand-written schemas, so that each kind below reads like the
 * Kubernetes API reference rather than like nested JSON.
 */
export type JsonSchema = { [keyword: string]: unknown };

export const str = (description?: string): JsonSchema => withDescription({ type: 'string' }, description);
export const bool = (description?: string): JsonSchema => withDescription({ type: 'boolean' }, description);
export const int = (description?: string): JsonSchema => withDescription({ type: 'integer' }, description);
export const port = (description?: string): JsonSchema =>
  withDescription({ type: 'integer', minimum: 1, maximum: 65535 }, description);
/** A port number or a port name (`targetPort: 8080` or `targetPort: http`); a number must be a port. */
export const portOrName = (description?: string): JsonSchema =>
  withDescription({ type: ['integer', 'string'], minimum: 1, maximum: 65535 }, description);
/** Kubernetes IntOrString. */
export const intOrString = (description?: string): JsonSchema =>
  withDescription({ type: ['integer', 'string'] }, description);
export const arrayOf = (items: JsonSchema, description?: string): JsonSchema =>
  withDescription({ type: 'array', items }, description);
export const stringMap = (description?: string): JsonSchema =>
  withDescription({ type: 'object', additionalProperties: { type: 'string' } }, description);
export const oneOfStrings = (values: readonly string[], description?: string): JsonSchema =>
  withDescription({ type: 'string', enum: [...values] }, description);

/**
 * An object whose listed fields are type-checked. Kubernetes core objects carry many fields
 * smi-compile does not read (resources, probes, volumes...), so by default other fields are
 * allowed: a schema here only guards what the compiler relies on.
 */
export function obj(
  properties: Record<string, JsonSchema>,
  opts: { required?: readonly string[]; closed?: boolean; description?: string } = {},
): JsonSchema {
  const schema: JsonSchema = { type: 'object', properties };
  if (opts.required?.length) schema.required = [...opts.required];
  if (opts.closed) schema.additionalProperties = false;
  return withDescription(schema, opts.description);
}

function withDescription(schema: JsonSchema, description?: string): JsonSchema {
  return description ? { description, ...schema } : schema;
}

/** `metadata` of every object: what the API server insists on, plus the maps we read. */
export const OBJECT_META: JsonSchema = obj(
  {
    name: str('Name of the object, unique within its namespace and kind.'),
    namespace: str('Namespace of the object; `default` when omitted.'),
    labels: stringMap('Labels; values must be strings (quote numbers and booleans).'),
    annotations: stringMap('Annotations; values must be strings.'),
  },
  { required: ['name'] },
);

/** A complete schema document for one kind, with the ObjectMeta definition inlined. */
export function documentSchema(
  title: string,
  properties: Record<string, JsonSchema>,
  opts: { required?: readonly string[]; closed: boolean },
): JsonSchema {
  const schema: JsonSchema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title,
    type: 'object',
    properties: {
      apiVersion: str(),
      kind: str(),
      metadata: { $ref: '#/definitions/ObjectMeta' },
      ...properties,
    },
    required: ['metadata', ...(opts.required ?? [])],
  };
  if (opts.closed) schema.additionalProperties = false;
  schema.definitions = { ObjectMeta: OBJECT_META };
  return schema;
}
