/**
 * What every builder shares: object metadata with Kubernetes' defaults, and the base of
 * every IR resource.
 */
import type { ManifestDocument } from '../../parser/parse.ts';
import type { ObjectMeta, Origin } from '../types.ts';

export const DEFAULT_NAMESPACE = 'default';

interface RawMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * `metadata`, schema-checked by the parser; namespace `default` when absent, unless
 * cluster-scoped. A namespace written as `""` stays `""` for names.ts to refuse: a template that
 * rendered an empty namespace must not land in `default/` unnoticed.
 */
function objectMeta(doc: ManifestDocument, clusterScoped = false): ObjectMeta {
  const raw = doc.value.metadata as RawMeta;
  return {
    name: raw.name,
    namespace: clusterScoped ? '' : (raw.namespace ?? DEFAULT_NAMESPACE),
    labels: raw.labels ?? {},
    annotations: raw.annotations ?? {},
  };
}

export function base<K extends string>(
  doc: ManifestDocument,
  kind: K,
  clusterScoped = false,
): { kind: K; apiVersion: string; meta: ObjectMeta; origin: Origin } {
  return { kind, apiVersion: doc.apiVersion, meta: objectMeta(doc, clusterScoped), origin: doc.origin };
}

/** The API version part of `group/version` (`v1alpha3`). */
export function versionOf(doc: ManifestDocument): string {
  return doc.apiVersion.slice(doc.apiVersion.lastIndexOf('/') + 1);
}

/** The document's `spec` (or `{}`), typed by the caller after the parser's schema check. */
export function specOf<T>(doc: ManifestDocument): Partial<T> {
  return (doc.value.spec ?? {}) as Partial<T>;
}
