/**
 * Structured logs: one JSON object per line when the output is not a terminal (what log
 * collectors in a cluster parse), a readable line when a person is watching.
 */
import type { LogFields, Logger, LogLevel } from '../../shared/logger.ts';

export interface LogRecord extends LogFields {
  time: string;
  level: LogLevel;
  msg: string;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Default: JSON unless `stream` is a TTY. */
  json?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

function formatText(r: LogRecord): string {
  const { time, level, msg, ...fields } = r;
  const extras = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level.toUpperCase().padEnd(5)} ${msg}${extras ? ` ${extras}` : ''}`;
}

class SinkLogger implements Logger {
  constructor(
    private readonly sink: (r: LogRecord) => void,
    private readonly min: number,
    private readonly base: LogFields,
  ) {}
  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.min) return;
    this.sink({ time: new Date().toISOString(), level, msg, ...this.base, ...fields });
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new SinkLogger(this.sink, this.min, { ...this.base, ...fields });
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const json = options.json ?? !(stream as { isTTY?: boolean }).isTTY;
  const sink = (r: LogRecord): void => {
    stream.write(`${json ? JSON.stringify(r) : formatText(r)}\n`);
  };
  return new SinkLogger(sink, RANK[options.level ?? 'info'], {});
}

/** A logger that keeps its records in memory, for tests. */
export interface MemoryLogger extends Logger {
  readonly records: LogRecord[];
  /**
   * The first record from index `from` on (default: from the next one) that `match` accepts, once
   * it is logged: what a test awaits instead of sleeping.
   */
  waitFor(match: (r: LogRecord) => boolean, from?: number): Promise<LogRecord>;
}

export function memoryLogger(level: LogLevel = 'debug'): MemoryLogger {
  const records: LogRecord[] = [];
  const waiters = new Set<{ readonly match: (r: LogRecord) => boolean; readonly resolve: (r: LogRecord) => void }>();
  const logger = new SinkLogger(
    (r) => {
      records.push(r);
      for (const w of waiters) {
        if (!w.match(r)) continue;
        waiters.delete(w);
        w.resolve(r);
      }
    },
    RANK[level],
    {},
  );
  const waitFor = (match: (r: LogRecord) => boolean, from = records.length): Promise<LogRecord> => {
    const seen = records.slice(from).find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.add({ match, resolve }));
  };
  return Object.assign(logger, { records, waitFor });
}

/** A logger that drops everything. */
export const silentLogger: Logger = new SinkLogger(() => {}, Infinity, {});
