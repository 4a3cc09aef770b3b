/**
 * The server's open streams: which are identified, under which flavour label their gauge was
 * raised (a stream may turn proxyless later), how many a node has, and the ids new ones get.
 */
import type { XdsMetrics } from '../ops/metrics.ts';
import type { AnyStream } from './stream-core.ts';

export class StreamRegistry {
  private readonly streams = new Map<AnyStream, string>();
  private readonly perNode = new Map<string, number>();
  private ids = 0;

  constructor(private readonly metrics: XdsMetrics) {}

  /** A new stream's id: `s` and a base-36 count, unique in this server. */
  streamId(): string {
    this.ids += 1;
    return `s${this.ids.toString(36)}`;
  }

  /** The stream's node is known: counted under its node, protocol and flavour. */
  attach(stream: AnyStream): void {
    const flavour = stream.flavour ?? 'sidecar';
    this.streams.set(stream, flavour);
    this.perNode.set(stream.nodeId!, (this.perNode.get(stream.nodeId!) ?? 0) + 1);
    this.metrics.proxies.set(this.perNode.size);
    this.metrics.streams.inc({ protocol: stream.protocol, flavour });
  }

  /** The stream closed; a stream that was never attached is ignored. */
  detach(stream: AnyStream): void {
    const flavour = this.streams.get(stream);
    if (flavour === undefined) return;
    this.streams.delete(stream);
    const n = (this.perNode.get(stream.nodeId!) ?? 1) - 1;
    if (n <= 0) this.perNode.delete(stream.nodeId!);
    else this.perNode.set(stream.nodeId!, n);
    this.metrics.proxies.set(this.perNode.size);
    this.metrics.streams.dec({ protocol: stream.protocol, flavour });
  }

  /** The attached streams, in the order they attached. */
  all(): IterableIterator<AnyStream> {
    return this.streams.keys();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Nodes with at least one attached stream. */
  get nodes(): number {
    return this.perNode.size;
  }

  /**
   * The streams a new snapshot concerns, given the nodes whose resources changed. Proxyless
   * streams always are: their routes carry their destinations' inbound policy, which lives in
   * other proxies.
   */
  due(changed: ReadonlySet<string>): AnyStream[] {
    const due: AnyStream[] = [];
    for (const s of this.streams.keys()) if (s.flavour === 'proxyless' || changed.has(s.nodeId!)) due.push(s);
    return due;
  }
}
