/**
 * RBAC as OSM builds it (osm pkg/envoy/rbac/policy.go, lds/rbac.go, rds/rbac.go): the
 * peer's identity is the principal name Envoy reads from the client certificate, matched
 * exactly; permissions are "any" because the filter chain (network RBAC) or the route
 * (HTTP RBAC) already narrows what is being admitted.
 */
import type { InboundPolicy } from '../ir/proxy-plan.ts';
import { NETWORK_RBAC_FILTER, NETWORK_RBAC_STAT_PREFIX, RBAC_PER_ROUTE_POLICY, TYPE } from './names.ts';
import type { EmitSession } from './session.ts';
import type { Json } from '../shared/json.ts';
import { byName as compareNames } from '../shared/compare.ts';

const ANY_PERMISSIONS = Object.freeze([Object.freeze({ any: true })]);
const ANY_PRINCIPALS = Object.freeze([Object.freeze({ any: true })]);

/** `authenticated.principal_name.exact`: the identity `<sa>.<ns>.<trustDomain>` from the peer's certificate. */
function authenticatedPrincipal(identity: string): Json {
  return { authenticated: { principal_name: { exact: identity } } };
}

function policy(principals: readonly string[] | undefined): Json {
  return {
    permissions: ANY_PERMISSIONS,
    principals: principals === undefined ? ANY_PRINCIPALS : principals.map(authenticatedPrincipal),
  };
}

/**
 * The network RBAC filter of an inbound filter chain: one ALLOW policy per TrafficTarget.
 * A connection is admitted only if some policy names its peer, so an empty policy set denies
 * everything. A policy with no principals is left out: Envoy requires at least one principal,
 * and OSM's fallback (admit anyone) would open the port, which is not what an empty
 * TrafficTarget means.
 */
export function networkRbacFilter(session: EmitSession, policies: readonly InboundPolicy[]): Json {
  const key = policies.map((p) => `${p.name}=${p.principals.join(',')}`).join(';');
  return session.shared('network-rbac', key, () => {
    const byName: Json = {};
    for (const p of [...policies].sort(compareNames)) {
      if (p.principals.length > 0) byName[p.name] = policy(p.principals);
    }
    return {
      name: NETWORK_RBAC_FILTER,
      typed_config: {
        '@type': TYPE.networkRbac,
        stat_prefix: NETWORK_RBAC_STAT_PREFIX,
        rules: { action: 'ALLOW', policies: byName },
      },
    };
  });
}

/**
 * Per-route HTTP RBAC: exactly `principals` may use the route; undefined admits anyone
 * (permissive mode, where OSM still attaches a policy with the wildcard principal), and an
 * empty list admits no one (ALLOW with no policy).
 */
export function rbacPerRoute(session: EmitSession, principals: readonly string[] | undefined): Json {
  const key = principals === undefined ? '*' : `=${principals.join(',')}`;
  return session.shared('rbac-per-route', key, () => ({
    '@type': TYPE.httpRbacPerRoute,
    rbac: {
      rules: {
        action: 'ALLOW',
        policies: principals !== undefined && principals.length === 0 ? {} : { [RBAC_PER_ROUTE_POLICY]: policy(principals) },
      },
    },
  }));
}
