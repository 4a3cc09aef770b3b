/**
 * The push pacer: after a change, the streams it concerns are evaluated against the current
 * snapshot in batches, and only while few enough wait for an ACK.
 *
 * The first `batch` go at once; the rest follow a batch per turn of the event loop, so that ACKs
 * (which send the next type) are read in between, and only while fewer than `window.streams`
 * streams wait for an ACK: a change for 10,000 streams does not queue 50,000 responses in memory
 * before the first is on the wire. A full window still lets a tenth of itself through every
 * `window.waitMs`, so clients that never ACK cannot stall the others. A stream evaluated late
 * sees the latest snapshot.
 */

/** Streams evaluated per turn of the event loop after a change. */
export const PUSH_BATCH = 500;

/** Streams that may wait for an ACK at once before a push evaluates more, and how long a full window waits. */
export const DEFAULT_PUSH_WINDOW = { streams: 1000, waitMs: 100 } as const;

export interface PushWindow {
  readonly streams: number;
  readonly waitMs: number;
}

/** What the pacer pushes to: a stream, evaluated against whatever snapshot is current. */
export interface Pushable {
  onSnapshot(): void;
}

/** How the pacer waits (tests substitute their own, to run the turns by hand). */
export interface PacerTimers {
  /** On the next turn of the event loop; returns a cancel. */
  soon(fn: () => void): () => void;
  /** After `ms`; returns a cancel. */
  after(ms: number, fn: () => void): () => void;
}

export const NODE_TIMERS: PacerTimers = {
  soon(fn) {
    const h = setImmediate(fn);
    return () => clearImmediate(h);
  },
  after(ms, fn) {
    const h = setTimeout(fn, ms);
    return () => clearTimeout(h);
  },
};

export class PushPacer {
  private readonly queue = new Set<Pushable>();
  /** The next batch: on the next turn of the event loop, or (`waits`) once the window wait is over. */
  private next: { readonly waits: boolean; readonly cancel: () => void } | undefined;
  private awaitingAck = 0;
  private closed = false;

  constructor(
    private readonly window: PushWindow = DEFAULT_PUSH_WINDOW,
    private readonly batch: number = PUSH_BATCH,
    private readonly timers: PacerTimers = NODE_TIMERS,
  ) {}

  /** Streams waiting for an ACK now (see `awaiting`). */
  get waiting(): number {
    return this.awaitingAck;
  }

  /** Streams queued for evaluation. */
  get queued(): number {
    return this.queue.size;
  }

  /** A stream now waits for an ACK (`true`) or no longer does (`false`): ACKs open the window again. */
  awaiting(waiting: boolean): void {
    this.awaitingAck += waiting ? 1 : -1;
    if (!waiting && this.queue.size > 0 && this.awaitingAck < this.window.streams) this.schedule(false);
  }

  /** Queues `due` and evaluates what the window allows now. */
  push(due: Iterable<Pushable>, waited = false): void {
    if (this.closed) return;
    for (const s of due) this.queue.add(s);
    // After a wait with the window still full, a tenth of the window goes anyway.
    const overdraft = waited ? Math.max(1, Math.floor(this.window.streams / 10)) : 0;
    let n = 0;
    for (const s of this.queue) {
      if (this.awaitingAck >= this.window.streams && n >= overdraft) break;
      this.queue.delete(s);
      s.onSnapshot();
      if (++n >= this.batch) break;
    }
    if (this.queue.size > 0) this.schedule(this.awaitingAck >= this.window.streams);
  }

  /** Drops the queue and any batch scheduled; nothing is pushed after this. */
  close(): void {
    this.closed = true;
    this.cancel();
    this.queue.clear();
  }

  private cancel(): void {
    this.next?.cancel();
    this.next = undefined;
  }

  private schedule(waits: boolean): void {
    if (this.next && (waits || !this.next.waits)) return; // as soon, or sooner, already
    this.cancel();
    const run = (): void => {
      this.next = undefined;
      this.push([], waits);
    };
    this.next = { waits, cancel: waits ? this.timers.after(this.window.waitMs, run) : this.timers.soon(run) };
  }
}
