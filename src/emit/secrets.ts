/**
 * The SDS secrets a proxy's TLS contexts refer to, without key material: the certificate
 * stages (serve's SDS, `compile --ca`) fill in `tls_certificate` and `trusted_ca` under these
 * same names. What emit knows is policy, so that it shows in reviews and goldens:
 *
 * - `service-cert:<ns>/<sa>`: the proxy's own certificate (its name);
 * - `root-cert-for-mtls-inbound:<ns>/<sa>`: validation of callers, with no SAN pinning;
 *   who may call is enforced by RBAC instead (osm sds/builder.go explains why: the same
 *   trust anchor serves all callers, and RBAC already checks each principal);
 * - `root-cert-for-mtls-outbound:<ns>/<svc>` per upstream service: the identities the
 *   upstream's certificate must carry (DNS SAN `<sa>.<ns>.<trustDomain>`, as OSM without
 *   SPIFFE), so a proxy refuses an impostor even before RBAC on the other side runs.
 */
import { inboundRootCertSecretName, outboundRootCertSecretName, serviceCertName, serviceKey } from '../ir/names.ts';
import type { ProxyPlan, ServiceName } from '../ir/proxy-plan.ts';
import { compareByName } from './common.ts';
import { TYPE } from './names.ts';
import type { EmitSession } from './session.ts';
import type { EnvoyResource } from './types.ts';

function outboundRootCertSecret(session: EmitSession, service: ServiceName, identities: readonly string[]): EnvoyResource {
  return session.shared('outbound-root-secret', `${serviceKey(service)}|${identities.join(',')}`, () => ({
    '@type': TYPE.secret,
    name: outboundRootCertSecretName(service),
    validation_context: {
      match_typed_subject_alt_names: identities.map((id) => ({ san_type: 'DNS', matcher: { exact: id } })),
    },
  }));
}

/**
 * Exactly the secrets the proxy's other resources name: its own certificate when it has any
 * TLS context, the inbound trust anchor when it has an inbound listener, and one outbound
 * trust anchor per upstream service.
 */
export function secrets(session: EmitSession, plan: ProxyPlan, hasInboundListener: boolean): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  if (hasInboundListener || plan.upstreams.length > 0) {
    const name = serviceCertName(plan);
    out.push(session.shared('service-cert-secret', name, () => ({ '@type': TYPE.secret, name })));
  }
  if (hasInboundListener) {
    const name = inboundRootCertSecretName(plan);
    out.push(session.shared('inbound-root-secret', name, () => ({ '@type': TYPE.secret, name, validation_context: {} })));
  }
  // A service reached on several ports has one trust anchor: merge the identities of its clusters.
  const identitiesByService = new Map<string, { service: ServiceName; identities: Set<string> }>();
  for (const upstream of plan.upstreams) {
    const key = serviceKey(upstream.service);
    const entry = identitiesByService.get(key) ?? { service: upstream.service, identities: new Set<string>() };
    for (const id of upstream.identities) entry.identities.add(id);
    identitiesByService.set(key, entry);
  }
  for (const { service, identities } of identitiesByService.values()) {
    out.push(outboundRootCertSecret(session, service, [...identities].sort()));
  }
  return out.sort(compareByName);
}
