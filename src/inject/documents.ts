/**
 * `smi-compile inject` on a YAML text: every Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
 * and Pod gets the sidecar in its pod template; every other document, and every document left
 * alone, is written back byte for byte (its own slice of the input). An injected document is
 * edited in place through yaml's Document API, one patch operation at a time (json-patch.ts), so
 * its comments and the fields the injector does not touch keep their formatting.
 */
import { isMap, isSeq, LineCounter, Parser, Composer, type Document } from 'yaml';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { MAX_ALIAS_COUNT, MAX_DEPTH } from '../parser/documents.ts';
import type { Diagnostic, SourcePosition } from '../diagnostics/diagnostic.ts';
import { injectTemplate, workloadOfPod, type InjectOptions, type NamespaceInfo, type PodTemplate } from './inject.ts';
import { jsonPatch, type PatchOp } from './json-patch.ts';
import type { LooseJson as Json } from '../shared/json.ts';

/** Where each kind keeps its pod template. */
const TEMPLATE_PATH: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
};

export interface InjectTextResult {
  readonly text: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly injected: number;
}

interface Segment {
  readonly start: number;
  readonly end: number;
  readonly doc?: Document.Parsed;
}

/** The documents of `text` with the byte range each owns (from its first token to the next document's). */
function segments(text: string): Segment[] {
  const tokens = [...new Parser().parse(text)];
  const starts = tokens.filter((t) => t.type === 'document').map((t) => t.offset);
  const docs = [...new Composer({ prettyErrors: false, uniqueKeys: true }).compose(tokens)] as Document.Parsed[];
  // Comments and directives before the first document belong to it; each later document starts at its own token.
  return docs.map((doc, i) => ({ start: i === 0 ? 0 : starts[i], end: i + 1 < starts.length ? starts[i + 1] : text.length, doc }));
}

const keyOf = (segment: string): string | number => (/^\d+$/.test(segment) ? Number(segment) : segment.replace(/~1/g, '/').replace(/~0/g, '~'));

/** Applies patch operations to a YAML document under `prefix`, keeping every node they do not name. */
function applyToDocument(doc: Document, prefix: readonly string[], ops: readonly PatchOp[]): void {
  for (const op of ops) {
    const path = [...prefix, ...op.path.split('/').slice(1).map(keyOf)];
    if (op.op === 'remove') {
      doc.deleteIn(path);
      continue;
    }
    const parent = doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    // What the injector adds is block YAML: in a flow collection (`containers: [{...}]`) it would be one long line.
    if (op.op === 'add' && (isSeq(parent) || isMap(parent))) parent.flow = false;
    if (isSeq(parent) && typeof last === 'number' && last >= parent.items.length) parent.add(doc.createNode(op.value));
    else doc.setIn(path, doc.createNode(op.value));
  }
}

/** The document's own habits, so that the re-rendered injected document reads like its neighbours. */
function styleOf(text: string): { indentSeq: boolean; flowCollectionPadding: boolean } {
  return {
    // `key:\n- item` (kubectl's and many hand-written files' style) rather than `key:\n  - item`
    indentSeq: !/^( *)[^\s#-][^\n]*:\n\1- /m.test(text),
    flowCollectionPadding: !/[{[][^\s}\]]/.test(text.replace(/"[^"\n]*"|'[^'\n]*'/g, '')),
  };
}

export function injectText(text: string, file: string, options: InjectOptions): InjectTextResult {
  const lines = new LineCounter();
  for (const _ of new Parser(lines.addNewLine).parse(text)) void _; // the parser is lazy: drain it to fill `lines`
  const at = (offset: number | undefined): SourcePosition => {
    const { line, col } = lines.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const diagnostics: Diagnostic[] = [];
  let parts: Segment[];
  try {
    parts = segments(text);
  } catch (e) {
    // yaml's composer recurses per nesting level: absurd depth overflows the stack.
    if (e instanceof RangeError) return { text, diagnostics: [diagnostic('depth-limit', { limit: MAX_DEPTH }, at(0))], injected: 0 };
    throw e;
  }
  for (const { doc } of parts) {
    const error = doc?.errors[0];
    if (error) return { text, diagnostics: [diagnostic('yaml-syntax', { detail: error.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim() }, at(error.pos[0]))], injected: 0 };
  }
  // Plain values, aliases expanded within the parser's bound (a "billion laughs" document is SMI1015 and left as it is).
  const values = parts.map(({ doc }) => {
    try {
      return doc?.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Json | null;
    } catch (e) {
      if (e instanceof ReferenceError || e instanceof RangeError) {
        diagnostics.push(diagnostic(e instanceof RangeError ? 'depth-limit' : 'alias-limit', { limit: e instanceof RangeError ? MAX_DEPTH : MAX_ALIAS_COUNT }, at(doc?.contents?.range?.[0])));
        return null;
      }
      throw e;
    }
  });

  // Namespaces in the same input say whether they are in the mesh and opted out.
  const namespaces = new Map<string, NamespaceInfo>();
  for (const v of values) {
    if (v?.kind === 'Namespace' && typeof v.metadata?.name === 'string') namespaces.set(v.metadata.name, { labels: v.metadata.labels ?? {}, annotations: v.metadata.annotations ?? {} });
  }

  let injected = 0;
  const out: string[] = [];
  for (const [i, { start, end, doc }] of parts.entries()) {
    const original = text.slice(start, end);
    const value = values[i];
    const prefix = value && typeof value === 'object' && typeof value.kind === 'string' && String(value.apiVersion ?? '').length ? TEMPLATE_PATH[value.kind] : undefined;
    if (!doc || !value || !prefix) {
      out.push(original);
      continue;
    }
    const namespace = typeof value.metadata?.namespace === 'string' ? value.metadata.namespace : 'default';
    const name = `${namespace}/${value.metadata?.name ?? '?'}`;
    const template: PodTemplate | undefined = prefix.length ? value.spec?.template : value;
    const templateNode = doc.getIn(prefix, true) as { range?: [number, number, number] } | undefined;
    const where = at(templateNode?.range?.[0] ?? doc.contents?.range?.[0]);
    if (!template || typeof template !== 'object' || !Array.isArray(template.spec?.containers)) {
      diagnostics.push(diagnostic('inject-no-pod-template', { kind: value.kind, name, path: [...prefix, 'spec', 'containers'].join('.') }, where, { kind: value.kind, namespace, name: String(value.metadata?.name ?? '') }));
      out.push(original);
      continue;
    }
    const workload = value.kind === 'Pod' ? workloadOfPod(value.metadata) : String(value.metadata?.name ?? '');
    const result = injectTemplate({ metadata: template.metadata, spec: template.spec }, { namespace, workload }, options, namespaces.get(namespace));
    const resource = { kind: value.kind, namespace, name: String(value.metadata?.name ?? '') };
    if (result.outcome === 'invalid') {
      for (const p of result.problems) {
        const node = doc.getIn([...prefix, 'metadata', 'annotations', p.annotation], true) as { range?: [number, number, number] } | undefined;
        diagnostics.push(diagnostic('inject-bad-annotation', { kind: value.kind, name, annotation: p.annotation, value: JSON.stringify(p.value), detail: p.detail }, at(node?.range?.[0] ?? templateNode?.range?.[0]), resource));
      }
      out.push(original);
      continue;
    }
    if (result.outcome === 'skipped') {
      diagnostics.push(diagnostic('inject-skipped', { kind: value.kind, name, reason: result.reason }, where, resource));
      out.push(original);
      continue;
    }
    const before = { metadata: template.metadata, spec: template.spec };
    applyToDocument(doc, prefix, jsonPatch(before, { metadata: result.template.metadata, spec: result.template.spec }));
    const rendered = doc.toString({ lineWidth: 0, ...styleOf(original) });
    // The slice may end with the next document's `---` line's predecessor: keep what followed the document (a blank line) as it was.
    const trailing = /\n*$/.exec(original)![0];
    out.push(rendered.replace(/\n*$/, '') + (trailing || '\n'));
    injected++;
  }
  return { text: out.join(''), diagnostics, injected };
}
