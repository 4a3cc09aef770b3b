/**
 * OSM MeshConfig (config.openservicemesh.io v1alpha1, v1alpha2) → IR, and the mesh-wide
 * settings it decides.
 */
import { DEFAULT_TRUST_DOMAIN } from '../../shared/options.ts';
import { diagnostic, type Reporter } from '../../diagnostics/diagnostic.ts';
import type { ManifestDocument } from '../../parser/parse.ts';
import { keyOf, type MeshConfig, type MeshSettings } from '../types.ts';
import { base } from './common.ts';
import { positionOf } from '../../parser/origin.ts';
import { compareStrings } from '../../shared/compare.ts';

interface RawMeshConfigSpec {
  traffic?: { enablePermissiveTrafficPolicyMode?: boolean };
}

export function buildMeshConfig(doc: ManifestDocument): MeshConfig {
  const spec = (doc.value.spec ?? {}) as RawMeshConfigSpec;
  const out: { -readonly [K in keyof MeshConfig]: MeshConfig[K] } = base(doc, 'MeshConfig');
  const permissive = spec.traffic?.enablePermissiveTrafficPolicyMode;
  if (permissive !== undefined) out.permissive = permissive;
  // No published MeshConfig version has a trust domain (OSM v1.2 keeps it in its
  // MeshRootCertificate), so OSM would ignore one written here and so do we: the trust
  // domain comes from --trust-domain or the default. `trustDomain` stays unset.
  return out;
}

/**
 * Trust domain: the option, else the MeshConfig's, else `cluster.local`. Permissive mode:
 * the MeshConfig's, else off (restrictive). With several MeshConfigs the first by
 * namespace/name applies and the others are reported.
 */
export function meshSettings(configs: readonly MeshConfig[], options: { trustDomain?: string }, reporter: Reporter): MeshSettings {
  const sorted = [...configs].sort((a, b) => compareStrings(keyOf(a.meta.namespace, a.meta.name), keyOf(b.meta.namespace, b.meta.name)));
  const from = sorted[0];
  for (const ignored of sorted.slice(1)) {
    reporter.report(
      diagnostic(
        'multiple-mesh-configs',
        { name: keyOf(ignored.meta.namespace, ignored.meta.name), first: keyOf(from.meta.namespace, from.meta.name) },
        positionOf(ignored.origin, ['metadata', 'name']),
        { kind: 'MeshConfig', namespace: ignored.meta.namespace, name: ignored.meta.name },
      ),
    );
  }
  const settings: MeshSettings = {
    trustDomain: options.trustDomain || from?.trustDomain || DEFAULT_TRUST_DOMAIN,
    permissive: from?.permissive ?? false,
  };
  return from ? { ...settings, from } : settings;
}
