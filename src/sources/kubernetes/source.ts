/**
 * `serve --kubernetes`: the Kubernetes API as a live source of manifests.
 *
 * One informer (`@kubernetes/client-node`'s ListWatch: list, then watch from the list's
 * resourceVersion) per kind the compiler reads, at the version discovery says the cluster serves
 * (kinds.ts). The compiler reads the informers' caches whole at every recompile, so nothing here
 * keeps a second copy or applies events itself: an event only says "recompile soon" (debounced as
 * `--watch` is), and the objects that did not change are the same objects as last time, which the
 * compile memo reuses by identity.
 *
 * What the client library leaves to its caller, and this file does:
 * - after an error (the API server restarting, a dropped connection, a refused list) an informer
 *   stops; it is started again after a backoff, and watches on from its last resourceVersion;
 * - `410 Gone` (that resourceVersion is older than the server remembers) makes it relist: the
 *   library clears the resourceVersion, and a relist reports what vanished meanwhile as deletions;
 * - bookmarks are asked for (`allowWatchBookmarks`), so a quiet kind's resourceVersion stays
 *   recent and a reconnect rarely needs a relist; watches end after 5-10 minutes
 *   (`timeoutSeconds`), so a connection that died silently is replaced.
 *
 * Only namespaces labelled `openservicemesh.io/monitor=<mesh name>` are in the mesh, as in OSM;
 * MeshConfig is read from OSM's own namespace (`--osm-namespace`), which is usually not monitored.
 */
import type { KubeConfig, KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import { diagnostic, formatDiagnostic, type Diagnostic } from '../../diagnostics/diagnostic.ts';
import type { SourceObject } from '../../parser/source.ts';
import { debounce, DEFAULT_MAX_WAIT_MS, type Debouncer } from '../../shared/debounce.ts';
import { logAtLevel, type Logger } from '../../shared/logger.ts';
import { describeError, kubeRequest } from './http.ts';
import { chooseVersions, collectionPath, apiVersionOfWatched, watchedKinds, type GroupDiscovery, type WatchedKind } from './kinds.ts';
import type { LooseJson as Json } from '../../shared/json.ts';
import { byKey } from '../../shared/compare.ts';

export const MONITOR_LABEL = 'openservicemesh.io/monitor';
export const DEFAULT_MESH_NAME = 'osm';
export const DEFAULT_OSM_NAMESPACE = 'osm-system';
/** Backoff after an informer's error: doubles from the first to the last, reset by the next success. */
export const RECONNECT_BACKOFF = { firstMs: 200, maxMs: 10_000 } as const;
/** Watches end after this long (randomised up to twice it, as client-go does) and start again from their resourceVersion. */
const WATCH_TIMEOUT_S = 300;

export interface KubernetesSourceOptions {
  /** A kubeconfig file; without it: KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  readonly kubeconfig?: string;
  /** `openservicemesh.io/monitor=<meshName>` marks the namespaces in the mesh (default `osm`). */
  readonly meshName?: string;
  /** Where OSM's MeshConfig lives (default `osm-system`). */
  readonly osmNamespace?: string;
  /** Quiet period after the last event before `onChange` (as `--watch`'s). */
  readonly debounceMs: number;
  /** Longest a change waits for a quiet period before `onChange` regardless (default DEFAULT_MAX_WAIT_MS). */
  readonly maxWaitMs?: number;
  readonly logger: Logger;
  /** Watches end after this many seconds, randomised up to twice it (default WATCH_TIMEOUT_S; tests shorten it). */
  readonly watchTimeoutSeconds?: number;
}

/** Counters a test or /metrics can read: what the informers went through. */
export interface KubernetesSourceStats {
  /** Lists made (one per kind at start, then one per relist). */
  lists: number;
  /** Watch requests made. */
  watches: number;
  /** `410 Gone` answers: the resourceVersion had expired, and a relist followed. */
  gone: number;
  /** Errors after which an informer was started again. */
  reconnects: number;
  bookmarks: number;
  /** Watch events (added, modified, deleted). */
  events: number;
}

interface KindInformer {
  readonly kind: WatchedKind;
  readonly informer: ListWatch<KubernetesObject>;
  /** The kind's position in watchedKinds(): objects are handed out kind by kind in this order. */
  readonly order: number;
}

const getJson = (kc: KubeConfig, path: string): Promise<Json> => kubeRequest(kc, 'GET', path) as Promise<Json>;

/** Discovery for the groups the compiler reads: which versions serve which kinds. */
async function discover(kc: KubeConfig): Promise<Map<string, GroupDiscovery>> {
  const groups = new Set(watchedKinds().map((k) => k.group));
  const out = new Map<string, GroupDiscovery>();
  const resourcesOf = (list: Json): Map<string, { plural: string; namespaced: boolean }> =>
    new Map(
      (list.resources as { name: string; kind: string; namespaced: boolean }[])
        .filter((r) => !r.name.includes('/'))
        .map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]),
    );
  if (groups.has('')) out.set('', { preferred: 'v1', versions: new Map([['v1', resourcesOf(await getJson(kc, '/api/v1'))]]) });
  const apis = await getJson(kc, '/apis');
  for (const g of apis.groups as { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[]) {
    if (!groups.has(g.name)) continue;
    const versions = new Map<string, Map<string, { plural: string; namespaced: boolean }>>();
    for (const v of g.versions) versions.set(v.version, resourcesOf(await getJson(kc, `/apis/${g.name}/${v.version}`)));
    out.set(g.name, { preferred: g.preferredVersion?.version, versions });
  }
  return out;
}

/** The object's fields the compiler never reads and that would only cost memory: server-side apply's bookkeeping. */
function trim(obj: Json): void {
  if (obj?.metadata && 'managedFields' in obj.metadata) delete obj.metadata.managedFields;
}

function refOf(kind: string, obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return `${kind} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? ''}`;
}


export class KubernetesSource {
  readonly stats: KubernetesSourceStats = { lists: 0, watches: 0, gone: 0, reconnects: 0, bookmarks: 0, events: 0 };
  private informers: KindInformer[] = [];
  private readonly listeners: (() => void)[] = [];
  private readonly accountListeners: (() => void)[] = [];
  /** Quiet for `debounceMs`, or `maxWaitMs` after the first change still pending (a cluster is never quiet for long). */
  private readonly debouncer: Debouncer;
  private closed = false;
  private ready = false;
  /** objects(), until the next change. */
  private current: SourceObject[] | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly meshName: string;
  private readonly osmNamespace: string;

  private constructor(
    private readonly kc: KubeConfig,
    private readonly opts: KubernetesSourceOptions,
  ) {
    this.meshName = opts.meshName ?? DEFAULT_MESH_NAME;
    this.osmNamespace = opts.osmNamespace ?? DEFAULT_OSM_NAMESPACE;
    this.debouncer = debounce(
      () => {
        for (const l of this.listeners) l();
      },
      { quietMs: opts.debounceMs, maxWaitMs: opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS },
    );
  }

  /**
   * Loads the client configuration, discovers the versions to read, starts every informer and
   * resolves once each has listed its kind once. An API server that cannot be reached yet is
   * retried (with the backoff) until it can, or until `close()`.
   */
  static async start(opts: KubernetesSourceOptions): Promise<KubernetesSource> {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
    const source = new KubernetesSource(kc, opts);
    await source.run(k8s);
    return source;
  }

  private async run(k8s: typeof import('@kubernetes/client-node')): Promise<void> {
    const { logger } = this.opts;
    let discovered: Map<string, GroupDiscovery> | undefined;
    for (let delay: number = RECONNECT_BACKOFF.firstMs; !discovered; delay = Math.min(delay * 2, RECONNECT_BACKOFF.maxMs)) {
      try {
        discovered = await discover(this.kc);
      } catch (err) {
        if (this.closed) throw new Error('closed before the Kubernetes API answered');
        this.log(diagnostic('kube-unreachable', { server: this.kc.getCurrentCluster()?.server ?? '?', detail: describeError(err), retryMs: delay }));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    const { kinds, missing } = chooseVersions(discovered);
    for (const m of missing) {
      this.log(diagnostic('kube-kind-not-served', { kind: m.kind, group: m.group || 'core', served: m.served.join(', ') || 'none', accepted: m.accepted.join(', ') }));
    }
    const order = new Map(watchedKinds().map((k, i) => [`${k.group}\0${k.kind}`, i]));
    const synced: Promise<void>[] = [];
    for (const kind of kinds) {
      let resolveSynced!: () => void;
      synced.push(new Promise((r) => (resolveSynced = r)));
      this.informers.push({ kind, informer: this.informer(k8s, kind, resolveSynced), order: order.get(`${kind.group}\0${kind.kind}`)! });
    }
    this.informers.sort((a, b) => a.order - b.order);
    logger.info('watching the Kubernetes API', {
      server: this.kc.getCurrentCluster()?.server,
      meshName: this.meshName,
      kinds: kinds.map((k) => `${k.kind}.${apiVersionOfWatched(k)}`),
    });
    await Promise.all(synced);
    this.ready = true;
  }

  private informer(k8s: typeof import('@kubernetes/client-node'), kind: WatchedKind, synced: () => void): ListWatch<KubernetesObject> {
    const { logger } = this.opts;
    const path = collectionPath(kind);
    const apiVersion = apiVersionOfWatched(kind);
    let backoff: number = RECONNECT_BACKOFF.firstMs;
    let listed = false;
    const watch = new k8s.Watch(this.kc);
    // The library's ListWatch builds the query itself; this adds what it leaves out.
    const watcher = {
      watch: (p: string, query: Record<string, unknown>, callback: (phase: string, obj: any, raw: any) => void, done: (err: unknown) => void) => {
        this.stats.watches += 1;
        const base = this.opts.watchTimeoutSeconds ?? WATCH_TIMEOUT_S;
        const timeoutSeconds = base + Math.floor(Math.random() * base);
        return watch.watch(p, { ...query, allowWatchBookmarks: true, timeoutSeconds }, (phase, obj, raw) => {
          backoff = RECONNECT_BACKOFF.firstMs;
          if (phase === 'BOOKMARK') this.stats.bookmarks += 1;
          else if (phase === 'ERROR') {
            if (obj?.code === 410) {
              this.stats.gone += 1;
              logger.info('watch expired (410 Gone); relisting', { kind: kind.kind });
            } else logger.warn('watch error', { kind: kind.kind, status: obj?.code, error: obj?.message });
          } else {
            this.stats.events += 1;
            trim(obj);
          }
          callback(phase, obj, raw);
        }, done);
      },
    } as unknown as Watch;
    const labelSelector = kind.kind === 'Namespace' && kind.group === '' ? `${MONITOR_LABEL}=${this.meshName}` : undefined;
    const list = async (): Promise<any> => {
      this.stats.lists += 1;
      // The library passes the label selector to its watches; the list is ours to filter alike.
      const body = await getJson(this.kc, labelSelector ? `${path}?labelSelector=${encodeURIComponent(labelSelector)}` : path);
      // Items of a list carry no type meta; the compiler reads each as a document of its own.
      for (const item of body.items as Json[]) {
        item.apiVersion = apiVersion;
        item.kind = kind.kind;
        trim(item);
      }
      backoff = RECONNECT_BACKOFF.firstMs;
      listed = true;
      return body;
    };
    const informer = new k8s.ListWatch<KubernetesObject>(path, watcher, list, false, labelSelector);
    let done = false;
    const start = (): void => {
      void informer.start().then(() => {
        if (listed && !done) {
          done = true;
          synced();
        }
      });
    };
    const accounts = kind.group === '' && (kind.kind === 'ServiceAccount' || kind.kind === 'Namespace');
    const onObject = (obj: KubernetesObject): void => {
      this.current = undefined;
      if (accounts && this.ready) for (const l of this.accountListeners) l();
      if (this.concerns(kind, obj)) this.changed();
    };
    informer.on('add', onObject);
    informer.on('update', onObject);
    informer.on('delete', onObject);
    informer.on('error', (err) => {
      if (this.closed) return;
      this.stats.reconnects += 1;
      const status = (err as { statusCode?: number } | undefined)?.statusCode;
      if (status === 401 || status === 403) this.log(diagnostic('kube-forbidden', { resource: `${kind.plural}.${kind.group || 'core'}`, detail: describeError(err) }));
      else this.log(diagnostic('kube-watch-failed', { kind: kind.kind, detail: describeError(err), retryMs: backoff }));
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        if (!this.closed) start();
      }, backoff);
      this.retries.add(retry);
      backoff = Math.min(backoff * 2, RECONNECT_BACKOFF.maxMs);
    });
    start();
    return informer;
  }

  /** Whether an object of this kind could change what is compiled (objects outside the mesh cannot). */
  private concerns(kind: WatchedKind, obj: KubernetesObject): boolean {
    if (!kind.namespaced) return true;
    const ns = obj.metadata?.namespace ?? '';
    if (kind.kind === 'MeshConfig') return ns === this.osmNamespace;
    return this.monitored().has(ns);
  }

  private monitored(): Set<string> {
    const ns = this.informers.find((i) => i.kind.kind === 'Namespace' && i.kind.group === '');
    return new Set((ns?.informer.list() ?? []).map((n) => n.metadata?.name ?? ''));
  }

  /**
   * Every object in the mesh now: kind by kind (the parser's order), then by namespace and name.
   * The same array until an informer reports a change (the compile reads it whole every time).
   */
  objects(): readonly SourceObject[] {
    this.current ??= this.collect();
    return this.current;
  }

  private collect(): SourceObject[] {
    const monitored = this.monitored();
    const out: SourceObject[] = [];
    for (const { kind, informer } of this.informers) {
      const objs = informer
        .list()
        .filter((o) => !kind.namespaced || (kind.kind === 'MeshConfig' ? o.metadata?.namespace === this.osmNamespace : monitored.has(o.metadata?.namespace ?? '')))
        .map((o) => ({ ref: refOf(kind.kind, o), value: o as unknown as Record<string, unknown> }));
      objs.sort(byKey((o) => o.ref));
      out.push(...objs);
    }
    return out;
  }

  /** Logs a diagnostic at its level, formatted as the server logs the compiler's. */
  private log(d: Diagnostic): void {
    logAtLevel(this.opts.logger, d.level, formatDiagnostic(d), { code: d.code });
  }

  /** Every ServiceAccount of every monitored namespace (what sidecar certificates are kept for). */
  serviceAccounts(): { namespace: string; name: string }[] {
    const monitored = this.monitored();
    const sas = this.informers.find((i) => i.kind.kind === 'ServiceAccount' && i.kind.group === '');
    return (sas?.informer.list() ?? [])
      .map((o) => ({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }))
      .filter((sa) => monitored.has(sa.namespace));
  }

  /** Calls `listener` at once after any ServiceAccount or Namespace event (not debounced: the caller coalesces). */
  onServiceAccountsChange(listener: () => void): void {
    this.accountListeners.push(listener);
  }

  /** The client configuration the informers use (for the sidecar certificates' writes). */
  get kubeConfig(): KubeConfig {
    return this.kc;
  }

  /** Calls `listener` after a quiet period following one or more changes in the mesh. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    // Until every kind has listed once, the first compile is still to come and will read it all.
    if (this.closed || !this.ready) return;
    this.debouncer.trigger();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.debouncer.cancel();
    for (const r of this.retries) clearTimeout(r);
    this.retries.clear();
    await Promise.all(this.informers.map((i) => i.informer.stop()));
  }
}
