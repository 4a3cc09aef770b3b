/**
 * Where things are in the input: the shapes every stage shares. They are plain data; the
 * parser's position finder (src/parser/origin.ts: `positionOf`, `keyPositionOf`) turns an
 * origin and a field path into a position.
 */

/** A field path inside one document, from its root: ['spec', 'rules', 0, 'name']. */
export type FieldPath = readonly (string | number)[];

/**
 * A 1-based position of the offending node in a source file; or, for an object read from the
 * Kubernetes API, `file` is `Kind ns/name`, `line` and `column` are 0, and `field` is the path
 * of the offending field (`spec.rules[0].matches`, `''` for the object itself).
 */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
  field?: string;
}

/** Where a resource came from: a document in a file, or an object read from the Kubernetes API. */
export type Origin = TextOrigin | ObjectOrigin;

/** A resource in a YAML or JSON file. */
export interface TextOrigin {
  readonly from: 'text';
  /** The path as the user gave it. */
  readonly file: string;
  /** The text of the resource's document, from the start of the line it starts on (so columns need no shifting). */
  readonly document: string;
  /** 1-based line of the document's first character in the file. */
  readonly line: number;
  /** Where the resource is inside the document: `[]`, or `['items', 3]` for the fourth item of a `kind: List`. */
  readonly prefix: FieldPath;
}

/** An object read from the Kubernetes API: there is no text, so positions name the object and the field. */
export interface ObjectOrigin {
  readonly from: 'api';
  /** `Kind namespace/name`, or `Kind name` for a cluster-scoped kind. */
  readonly file: string;
  readonly prefix: FieldPath;
}
