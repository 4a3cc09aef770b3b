/**
 * Health probes through Envoy, as OSM v1.2 rewrites them (pkg/injector/health_probes.go): with
 * inbound traffic redirected to Envoy's mTLS listener, the kubelet's plaintext probe to the app's
 * port would be refused, so each HTTP probe is pointed at a port of Envoy's own (liveness 15901,
 * readiness 15902, startup 15903, excluded from redirection) and path (`/osm-liveness-probe`, ...),
 * where a static listener of the bootstrap forwards it to the app's original port and path on
 * 127.0.0.1. An HTTPS probe keeps its path (Envoy passes it through as TCP). TCP and exec probes
 * are left as they are (OSM's osm-healthcheck container for TCP probes is not injected).
 */
import { LIVENESS_PORT, READINESS_PORT, STARTUP_PORT } from './constants.ts';
import type { LooseJson as Json } from '../shared/json.ts';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** What Envoy's probe listener forwards to: the probe as the app declared it. */
export interface OriginalProbe {
  readonly kind: ProbeKind;
  readonly port: number;
  /** HTTP path; undefined for HTTPS (passed through as TCP). */
  readonly path?: string;
  readonly https: boolean;
  /** `timeoutSeconds` (Kubernetes' default: 1). */
  readonly timeoutSeconds: number;
}

const SLOTS: readonly { kind: ProbeKind; field: string; port: number }[] = [
  { kind: 'liveness', field: 'livenessProbe', port: LIVENESS_PORT },
  { kind: 'readiness', field: 'readinessProbe', port: READINESS_PORT },
  { kind: 'startup', field: 'startupProbe', port: STARTUP_PORT },
];

export const probePath = (kind: ProbeKind): string => `/osm-${kind}-probe`;

/** A probe's port, number or name of one of the container's ports; undefined when the name matches none. */
function resolvePort(port: unknown, container: Json): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p: Json) => p?.name === port);
  return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
}

/**
 * Rewrites the HTTP(S) probes of `containers` in place (they are the injector's own copy) and
 * returns the originals, one per kind: as in OSM, when several containers declare the same kind
 * the last one wins, since Envoy has one port per kind.
 */
export function rewriteProbes(containers: Json[]): OriginalProbe[] {
  const found = new Map<ProbeKind, OriginalProbe>();
  for (const container of containers) {
    for (const slot of SLOTS) {
      const httpGet = container[slot.field]?.httpGet as Json | undefined;
      if (!httpGet) continue;
      const port = resolvePort(httpGet.port, container);
      if (port === undefined) continue; // the API server would reject it; nothing to forward to
      const https = String(httpGet.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
      found.set(slot.kind, {
        kind: slot.kind,
        port,
        ...(https ? {} : { path: typeof httpGet.path === 'string' && httpGet.path ? httpGet.path : '/' }),
        https,
        timeoutSeconds: container[slot.field].timeoutSeconds ?? 1,
      });
      httpGet.port = slot.port;
      if (!https) httpGet.path = probePath(slot.kind);
    }
  }
  return SLOTS.flatMap((s) => (found.has(s.kind) ? [found.get(s.kind)!] : []));
}

export const probePort = (kind: ProbeKind): number => SLOTS.find((s) => s.kind === kind)!.port;
