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
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_XDS_ADDRESS = '127.0.0.1';
export const DEFAULT_XDS_PORT = 15128;
