/** One input file, read into memory. */
export interface SourceFile {
  /** The path as the user gave it (relative stays relative); `<stdin>` for standard input. */
  path: string;
  text: string;
}

export const STDIN_PATH = '<stdin>';

/**
 * One object read from the Kubernetes API (src/sources/kubernetes), as the API returned it. It
 * has no text: diagnostics about it name it by `ref` and a field path instead of file:line.
 */
export interface SourceObject {
  /** `Kind namespace/name`, or `Kind name` for a cluster-scoped kind: its name in diagnostics. */
  readonly ref: string;
  readonly value: Record<string, unknown>;
}
