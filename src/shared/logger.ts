/**
 * What every stage that logs needs of a logger: the server makes one (serve's logger.ts: JSON
 * lines, or text for a person), and sources, the watcher and tests take any that fits.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record (a stream's node id, for example). */
  child(fields: LogFields): Logger;
}

/**
 * Logs at a diagnostic's level ('error', 'warning', 'info'): what the server, the Kubernetes
 * source and the sidecar certificates do with the diagnostics they report. `info` goes out at
 * `infoAs` (the server logs the compiler's info diagnostics at debug).
 */
export function logAtLevel(logger: Logger, level: 'error' | 'warning' | 'info', msg: string, fields?: LogFields, infoAs: 'info' | 'debug' = 'info'): void {
  if (level === 'error') logger.error(msg, fields);
  else if (level === 'warning') logger.warn(msg, fields);
  else logger[infoAs](msg, fields);
}
