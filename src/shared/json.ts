/** A JSON object whose fields are read with a check: emitted Envoy configuration, documents read back. */
export type Json = Record<string, unknown>;

/**
 * A JSON object walked into without checks, where the code that reads it built it or knows its
 * shape (Kubernetes objects being patched, responses in tests).
 */
export type LooseJson = Record<string, any>;
