export interface CompileOptions {
  /** Overrides the MeshConfig's trust domain; `cluster.local` when neither is set. */
  readonly trustDomain?: string;
  /** Where the generated bootstrap points Envoy for ADS. */
  readonly xdsAddress?: string;
  readonly xdsPort?: number;
  /** Encode every emitted resource under the real Envoy protos (default true). */
  readonly protoCheck?: boolean;
  /** Largest input file (and standard input) read, in bytes; default 16 MiB (`--max-file-size`). */
  readonly maxFileSize?: number;
  /**
   * Hand back the very same (frozen) objects for per-proxy resources whose content did not
   * change since the previous compile in this process (the inbound listener and route
   * configurations, keyed on the plan's inbound ports). For a server that recompiles: it then
   * knows unchanged resources by identity. A one-shot compile would only pay for the keys.
   */
  readonly stableObjects?: boolean;
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_XDS_ADDRESS = '127.0.0.1';
export const DEFAULT_XDS_PORT = 15128;
