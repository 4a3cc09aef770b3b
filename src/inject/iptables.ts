/**
 * The traffic redirection OSM's init container (osm-init) installs in every injected pod, rule for
 * rule as OSM v1.2 writes it (pkg/injector/iptables.go): outbound TCP to Envoy's 15001 except
 * Envoy's own uid and loopback, inbound TCP to 15003 except Prometheus (15010) and the health-probe
 * ports, and the pod's exclusion annotations.
 *
 * The one source of these rules: the injector puts `iptablesRestoreInput` into the init container's
 * command, and the end-to-end network-namespace tests (test/envoy/netns.ts) feed the same text to
 * `iptables-restore` in each pod's namespace.
 */
import { ADMIN_PORT, ENVOY_UID, HEALTHCHECK_PORT, INBOUND_PORT, OUTBOUND_PORT, PROBE_PORTS, PROMETHEUS_PORT } from './constants.ts';

export interface Exclusions {
  /** `openservicemesh.io/outbound-port-exclusion-list`: destination ports never redirected. */
  readonly outboundPorts?: readonly number[];
  /** `openservicemesh.io/inbound-port-exclusion-list`: ports the app receives on directly. */
  readonly inboundPorts?: readonly number[];
  /** `openservicemesh.io/outbound-ip-range-exclusion-list`: CIDRs reached directly. */
  readonly outboundIpRanges?: readonly string[];
  /** `openservicemesh.io/outbound-ip-range-inclusion-list`: when set, only these CIDRs go through Envoy. */
  readonly outboundIpRangesIncluded?: readonly string[];
}

export const CHAINS = ['OSM_PROXY_INBOUND', 'OSM_PROXY_IN_REDIRECT', 'OSM_PROXY_OUTBOUND', 'OSM_PROXY_OUT_REDIRECT'] as const;

/** The nat-table rules, in OSM's order (`-A`/`-I` lines as iptables-restore reads them). */
export function iptablesRules(exclusions: Exclusions = {}, uid = ENVOY_UID): string[] {
  const rules = [
    `-A OSM_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-port ${INBOUND_PORT}`,
    '-A PREROUTING -p tcp -j OSM_PROXY_INBOUND',
    `-A OSM_PROXY_INBOUND -p tcp --dport ${PROMETHEUS_PORT} -j RETURN`,
    ...[...PROBE_PORTS, HEALTHCHECK_PORT].map((p) => `-A OSM_PROXY_INBOUND -p tcp --dport ${p} -j RETURN`),
    '-A OSM_PROXY_INBOUND -p tcp -j OSM_PROXY_IN_REDIRECT',
  ];
  if (exclusions.inboundPorts?.length) rules.push(`-I OSM_PROXY_INBOUND -p tcp --match multiport --dports ${exclusions.inboundPorts.join(',')} -j RETURN`);
  rules.push(
    `-A OSM_PROXY_OUT_REDIRECT -p tcp -j REDIRECT --to-port ${OUTBOUND_PORT}`,
    `-A OSM_PROXY_OUT_REDIRECT -p tcp --dport ${ADMIN_PORT} -j ACCEPT`,
    '-A OUTPUT -p tcp -j OSM_PROXY_OUTBOUND',
    // Envoy talking to the pod's own IP over lo (a local app behind the inbound listener) goes inbound.
    `-A OSM_PROXY_OUTBOUND -o lo ! -d 127.0.0.1/32 -m owner --uid-owner ${uid} -j OSM_PROXY_IN_REDIRECT`,
    `-A OSM_PROXY_OUTBOUND -o lo -m owner ! --uid-owner ${uid} -j RETURN`,
    `-A OSM_PROXY_OUTBOUND -m owner --uid-owner ${uid} -j RETURN`,
    '-A OSM_PROXY_OUTBOUND -d 127.0.0.1/32 -j RETURN',
  );
  for (const cidr of exclusions.outboundIpRanges ?? []) rules.push(`-A OSM_PROXY_OUTBOUND -d ${cidr} -j RETURN`);
  if (exclusions.outboundPorts?.length) rules.push(`-A OSM_PROXY_OUTBOUND -p tcp --match multiport --dports ${exclusions.outboundPorts.join(',')} -j RETURN`);
  if (exclusions.outboundIpRangesIncluded?.length) {
    for (const cidr of exclusions.outboundIpRangesIncluded) rules.push(`-A OSM_PROXY_OUTBOUND -d ${cidr} -j OSM_PROXY_OUT_REDIRECT`);
    rules.push('-A OSM_PROXY_OUTBOUND -j RETURN');
  } else {
    rules.push('-A OSM_PROXY_OUTBOUND -j OSM_PROXY_OUT_REDIRECT');
  }
  return rules;
}

/** What `iptables-restore --noflush` reads: the chains, the rules, COMMIT. */
export function iptablesRestoreInput(exclusions: Exclusions = {}, uid = ENVOY_UID): string {
  return ['# OSM sidecar interception rules', '*nat', ...CHAINS.map((c) => `:${c} - [0:0]`), ...iptablesRules(exclusions, uid), 'COMMIT', ''].join('\n');
}
