/**
 * What `serve --watch` keeps from one compile to the next, so that a recompile after an edit
 * redoes only what the edit can reach:
 *
 * - per file, while its status (inode, size, times) is unchanged: its text, not read again;
 * - per file, while its text is unchanged: the resources its documents built to and the
 *   diagnostics parsing and building gave (a document never depends on another file);
 * - per namespace, while the files holding it are unchanged: the local passes' results
 *   (src/passes/namespaces.ts);
 * - per unit of planning, while what it read is unchanged: the plans (src/passes/plan.ts);
 * - per plan object: the emitted proxy config, frozen, so the server carries the proxy's
 *   encoded snapshot over by identity (src/serve/snapshot.ts);
 * - emit's session (src/emit/session.ts): the objects proxies share and what the proto check
 *   proved of them, swept after each compile so it holds what the last two compiles used;
 * - the latest planned mesh and what its build and passes reported: when the files or objects
 *   that changed hold only endpoint sets, the next compile updates it directly instead of
 *   running the passes (endpoint-path.ts).
 *
 * Each layer keeps only what the latest compile used, so the memo holds one compile's worth of
 * results, never a history. A compile with a memo gives exactly the result of one without
 * (compile-memo.test.ts holds them to it over edits of every kind).
 */
import type { Diagnostic, Reporter } from '../diagnostics/diagnostic.ts';
import { EmitSession } from '../emit/index.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { buildResource } from '../ir/build/index.ts';
import { asMeshLists, groupByList, MESH_LISTS, type MeshLists, type Resource } from '../ir/types.ts';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { parseObjects, parseSources, type ManifestDocument } from '../parser/parse.ts';
import { FileTexts } from '../parser/read-inputs.ts';
import type { SourceFile, SourceObject } from '../parser/source.ts';
import { PassMemo, type PlannedMesh } from '../passes/index.ts';
import { groupByNamespace, type NamespaceInput } from '../passes/namespaces.ts';
import { applyEndpointChange, endpointOnlyChange, type PlannedState } from './endpoint-path.ts';
import type { CompileOptions } from '../shared/options.ts';

interface FileEntry {
  /** What the resources were built from: a file's text, or an API object. */
  readonly content: string | object;
  readonly diagnostics: readonly Diagnostic[];
  /** The same resources by list (MESH_LISTS order). */
  readonly lists: readonly (readonly Resource[])[];
  /** The same resources by namespace, then by list. */
  readonly namespaces: ReadonlyMap<string, readonly (readonly Resource[])[]>;
  /** The latest `load()` that took it, and where: tells what changed between two loads without a set of either. */
  seen: number;
  order: number;
}

export class CompileMemo {
  private files = new Map<string, FileEntry>();
  /** Entries of API objects (serve --kubernetes), by the object itself. */
  private objects = new Map<object, FileEntry>();
  /** The files of the latest `load()`, in input order. */
  private latest: FileEntry[] = [];
  /** The files of the `load()` before it: what `planned` was planned from. */
  private before: FileEntry[] = [];
  /** Counts `load()`s: the stamp of the latest one. */
  private loads = 0;
  /** The latest `load()`'s files that the one before did not have, and whether the others kept their order. */
  private change: { readonly added: readonly FileEntry[]; readonly ordered: boolean } = { added: [], ordered: false };
  /** The latest compile's planned mesh (undefined after one whose build or passes failed internally). */
  private planned: PlannedState | undefined;
  readonly texts = new FileTexts();
  readonly passes = new PassMemo();
  readonly emit = new EmitSession();
  private emitted = new WeakMap<ProxyPlan, ProxyConfig>();
  /** The options the emitted configs were made with (JSON): other options, other configs. */
  private emitOptions = '';
  private emitOptionsObject: CompileOptions | undefined;
  /** Files parsed (misses) and reused (hits) since the memo was made. */
  parsed = 0;
  reused = 0;
  /** Compiles that took the endpoint-only path (endpoint-path.ts) since the memo was made. */
  endpointOnly = 0;

  /**
   * Parses and builds the files whose text changed, and the API objects (after the files) that
   * changed, replaying each one's diagnostics to `reporter`; `lists()` and `namespaces()` then
   * hand out the resources. An object is a unit as a file is: one changed object rebuilds alone.
   */
  load(files: readonly SourceFile[], reporter: Reporter, objects: readonly SourceObject[] = []): void {
    const next = new Map<string, FileEntry>();
    const nextObjects = new Map<object, FileEntry>();
    // `planned` describes the previous load only once this one is whole: a load that throws leaves none.
    const planned = this.planned;
    this.planned = undefined;
    this.before = this.latest;
    this.latest = [];
    const stamp = ++this.loads;
    const added: FileEntry[] = [];
    let ordered = true;
    let last = -1;
    const take = (entry: FileEntry, fresh: boolean): void => {
      if (entry.seen === stamp) {
        ordered = false; // the same unit twice
      } else if (fresh) {
        added.push(entry);
      } else {
        ordered &&= entry.order > last;
        last = entry.order;
      }
      entry.seen = stamp;
      entry.order = this.latest.length;
      this.latest.push(entry);
      for (const d of entry.diagnostics) reporter.report(d);
    };
    for (const file of files) {
      let entry = this.files.get(file.path) ?? next.get(file.path);
      const fresh = !entry || entry.content !== file.text;
      if (fresh) {
        entry = buildFile(file);
        this.parsed += 1;
      } else {
        this.reused += 1;
      }
      next.set(file.path, entry!);
      take(entry!, fresh);
    }
    // An API object is keyed by itself: the informer's cache replaces an object that changed.
    for (const object of objects) {
      let entry = this.objects.get(object.value) ?? nextObjects.get(object.value);
      const fresh = !entry;
      if (entry) {
        this.reused += 1;
      } else {
        entry = buildObject(object);
        this.parsed += 1;
      }
      nextObjects.set(object.value, entry);
      take(entry, fresh);
    }
    this.files = next;
    this.objects = nextObjects;
    this.change = { added, ordered };
    this.planned = planned;
  }

  /** The latest resources as the Mesh's lists: each file's lists, concatenated in input order. */
  lists(): MeshLists {
    return asMeshLists(concatLists(this.latest, (e) => e.lists));
  }

  /**
   * The latest resources by namespace, each keyed by the files that hold it: what the namespace
   * passes compare to reuse a namespace (src/passes/namespaces.ts), without looking at its resources.
   */
  namespaces(): Map<string, NamespaceInput> {
    const files = new Map<string, FileEntry[]>();
    for (const entry of this.latest) {
      for (const ns of entry.namespaces.keys()) {
        const list = files.get(ns);
        if (list) list.push(entry);
        else files.set(ns, [entry]);
      }
    }
    const out = new Map<string, NamespaceInput>();
    for (const [ns, entries] of files) {
      out.set(ns, { key: entries, lists: () => asMeshLists(concatLists(entries, (e) => e.namespaces.get(ns)!)) });
    }
    return out;
  }

  /**
   * The planned mesh for the latest `load()` without the passes, when what changed since the
   * compile before holds only endpoint sets (endpoint-path.ts), with what the build and the
   * passes reported then; undefined when the change needs the full path.
   */
  endpointPath(options: CompileOptions): { readonly mesh: PlannedMesh; readonly diagnostics: readonly Diagnostic[] } | undefined {
    const state = this.planned;
    this.planned = undefined; // whatever happens next, it no longer describes the latest load()
    if (!state) return undefined;
    if (!this.change.ordered || state.options !== JSON.stringify(options)) return undefined;
    const removed = this.before.filter((e) => e.seen !== this.loads);
    const change = endpointOnlyChange(removed, this.change.added);
    if (!change) return undefined;
    const next = applyEndpointChange(state, change, this.latest);
    if (!next) return undefined;
    this.planned = next;
    this.endpointOnly += 1;
    return { mesh: next.mesh, diagnostics: next.diagnostics };
  }

  /** What the passes planned for the latest `load()` (undefined: they failed), and what the build and they reported. */
  rememberPlanned(mesh: PlannedMesh | undefined, diagnostics: readonly Diagnostic[], options: CompileOptions): void {
    this.planned = mesh ? { mesh, diagnostics, options: JSON.stringify(options) } : undefined;
  }

  /** The config emitted for this very plan object by an earlier compile with the same options. */
  emittedFor(plan: ProxyPlan, options: CompileOptions): ProxyConfig | undefined {
    if (options !== this.emitOptionsObject) {
      this.emitOptionsObject = options;
      const key = JSON.stringify(options);
      if (key !== this.emitOptions) {
        this.emitOptions = key;
        this.emitted = new WeakMap();
      }
    }
    return this.emitted.get(plan);
  }

  /** Remembers a config that passed every check; it is frozen, since later compiles hand out the same object. */
  remember(plan: ProxyPlan, config: ProxyConfig): ProxyConfig {
    Object.freeze(config);
    this.emitted.set(plan, config);
    return config;
  }

  /** A compile's proxies have all been handed out: emit's shared objects not used since the compile before go. */
  afterEmit(): void {
    this.emit.sweep();
  }

  /** Files held (those of the latest compile). */
  get size(): number {
    return this.files.size + this.objects.size;
  }
}

/**
 * Each entry's lists, concatenated list by list. A loop, not `flatMap` per list: with
 * `--kubernetes` every API object is an entry of its own, nearly all of whose lists are empty,
 * and a flatMap per list would make an array per entry and list on every recompile.
 */
function concatLists(entries: readonly FileEntry[], listsOf: (e: FileEntry) => readonly (readonly Resource[])[]): Resource[][] {
  const out: Resource[][] = MESH_LISTS.map(() => []);
  for (const e of entries) {
    const lists = listsOf(e);
    for (let i = 0; i < out.length; i++) for (const r of lists[i]) out[i].push(r);
  }
  return out;
}

function buildFile(file: SourceFile): FileEntry {
  return buildEntry(file.text, (reporter) => parseSources([file], reporter, { keepRefused: true }));
}

function buildObject(object: SourceObject): FileEntry {
  return buildEntry(object.value, (reporter) => parseObjects([object], reporter, { keepRefused: true }));
}

function buildEntry(content: string | object, parse: (reporter: Reporter) => ManifestDocument[]): FileEntry {
  const diagnostics: Diagnostic[] = [];
  const reporter: Reporter = { report: (d) => diagnostics.push(d) };
  const resources: Resource[] = [];
  for (const doc of parse(reporter)) {
    // The next compile gets the same objects: no stage may edit them, and one that tried fails loudly (SMI9002).
    deepFreeze(doc.value);
    const r = buildResource(doc, reporter);
    if (r) resources.push(r);
  }
  return { content, diagnostics, lists: groupByList(resources), namespaces: groupByNamespace(resources), seen: 0, order: -1 };
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
