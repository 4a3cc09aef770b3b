/**
 * The xDS server's public surface, for the CLI and for embedding. See docs/xds-server.md.
 */
export { DEFAULT_ADDRESS, DEFAULT_PORT, runServe, startServer } from './server.ts';
export type { CaIssuer, ServeOptions, ServerHandle } from './server.ts';
export type { Compiler, ObjectSource, RecompileOutcome, RecompileTimings } from './recompile.ts';
export { createLogger, memoryLogger, silentLogger } from './ops/logger.ts';
export type { LoggerOptions } from './ops/logger.ts';
export type { Logger, LogLevel } from '../shared/logger.ts';
export { RawAdsClient } from './xds/raw-client.ts';
export type { CaServeOptions } from './security/security.ts';
