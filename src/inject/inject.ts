/**
 * The sidecar injector, one pure function shared by `smi-compile inject` (offline) and
 * `serve --inject-webhook`: a pod template (a Pod's or a workload's `spec.template`) in, the same
 * template with OSM's sidecar out (pkg/injector in OSM v1.2), so that both ways give the same pod.
 *
 * What is added:
 * - `osm-init`, the init container: OSM's iptables rules (iptables.ts) with the pod's exclusion
 *   annotations, then it writes Envoy's bootstrap into the `envoy-bootstrap-config-volume`
 *   emptyDir. The bootstrap is what `compile` writes for the workload (node id
 *   `<namespace>/<workload>`; with a CA, mTLS to the control plane), plus the probe listeners.
 *   An emptyDir rather than OSM's Secret per proxy: the bootstrap holds nothing secret, so the
 *   webhook creates no object (`sideEffects: None` is true, no RBAC to write Secrets in every
 *   namespace), and the pod spec is a function of its input (offline and webhook agree).
 * - `envoy`, the sidecar: uid 1500, OSM's ports, env and security context; with a CA it mounts the
 *   Secret `envoy-xds-cert-<serviceaccount>` (kubernetes.io/tls) at /etc/envoy-tls for its client
 *   certificate (docs/injection.md says how to make it).
 * - HTTP probes pointed at Envoy (probes.ts), `prometheus.io/*` annotations for 15010.
 */
import { serialise } from '../compiler/output-tree.ts';
import { bootstrap as proxyBootstrap, withXdsTls } from '../emit/bootstrap.ts';
import { withProbeListeners } from '../emit/probe-listeners.ts';
import { EmitSession } from '../emit/session.ts';
import { CONTROL_PLANE_ACCOUNT, spiffeId } from '../identity/index.ts';
import { exclusionsOf, injectionSetting, type AnnotationProblem } from './annotations.ts';
import {
  ADMIN_PORT, ANNOTATION, BOOTSTRAP_DIR, BOOTSTRAP_FILE, BOOTSTRAP_VOLUME, CERT_DIR, CERT_VOLUME, certSecretName, ENVOY_CONTAINER, ENVOY_UID,
  INBOUND_PORT, INIT_CONTAINER, MONITOR_LABEL, PROMETHEUS_PATH, PROMETHEUS_PORT,
} from './constants.ts';
import { iptablesRestoreInput } from './iptables.ts';
import { probePath, probePort, rewriteProbes, type OriginalProbe } from './probes.ts';
import type { LooseJson as Json } from '../shared/json.ts';

export interface InjectOptions {
  readonly envoyImage: string;
  readonly initImage: string;
  /** Envoy's `resources` (requests/limits), as a container spec has them; none by default. */
  readonly envoyResources?: Json;
  readonly envoyLogLevel?: string;
  /** Where Envoy dials the control plane (the Service of `serve` in a cluster). */
  readonly xdsAddress: string;
  readonly xdsPort: number;
  readonly trustDomain: string;
  /** PEM roots of the mesh CA: given, the bootstrap speaks mTLS to the control plane. */
  readonly trustBundle?: string;
  /** `openservicemesh.io/monitor=<meshName>` marks a namespace in the mesh. */
  readonly meshName: string;
}

/** Who the pod is: node id `<namespace>/<workload>`, as compile names the proxy. */
export interface PodTarget {
  readonly namespace: string;
  readonly workload: string;
}

/** What is known of the pod's namespace (offline: a Namespace in the same input). */
export interface NamespaceInfo {
  readonly labels?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface PodTemplate {
  metadata?: Json;
  spec?: Json;
}

export type InjectResult =
  | { readonly outcome: 'injected'; readonly template: PodTemplate }
  | { readonly outcome: 'skipped'; readonly reason: string }
  | { readonly outcome: 'invalid'; readonly problems: readonly AnnotationProblem[] };

/** Whether a template already has the sidecar (or its init container): injecting twice would duplicate them. */
export function hasSidecar(spec: Json | undefined): boolean {
  return (spec?.containers ?? []).some((c: Json) => c?.name === ENVOY_CONTAINER) || (spec?.initContainers ?? []).some((c: Json) => c?.name === INIT_CONTAINER);
}

export function injectTemplate(template: PodTemplate, target: PodTarget, options: InjectOptions, namespace?: NamespaceInfo): InjectResult {
  const spec = template.spec;
  if (!spec || !Array.isArray(spec.containers)) return { outcome: 'skipped', reason: 'it has no containers' };
  if (namespace?.labels && namespace.labels[MONITOR_LABEL] !== options.meshName) {
    return { outcome: 'skipped', reason: `namespace ${target.namespace} is not labelled ${MONITOR_LABEL}=${options.meshName}` };
  }
  const problems: AnnotationProblem[] = [];
  const annotations = template.metadata?.annotations;
  const podSetting = injectionSetting(annotations, problems);
  const nsSetting = injectionSetting(namespace?.annotations, problems);
  const exclusions = exclusionsOf(annotations, problems);
  if (problems.length) return { outcome: 'invalid', problems };
  if ((podSetting ?? nsSetting) === false) return { outcome: 'skipped', reason: `it is annotated ${ANNOTATION.injection}: disabled` };
  if (spec.hostNetwork === true) return { outcome: 'skipped', reason: "it uses the node's network (hostNetwork): a sidecar would redirect the node's traffic" };
  if (hasSidecar(spec)) return { outcome: 'skipped', reason: 'it already has the sidecar' };

  const out: PodTemplate = structuredClone(template) as PodTemplate;
  const outSpec = out.spec!;
  const probes = rewriteProbes(outSpec.containers);
  const serviceAccount = typeof spec.serviceAccountName === 'string' && spec.serviceAccountName ? spec.serviceAccountName : 'default';
  const bootstrapYaml = serialise(bootstrapOf(target, options, probes), 'yaml');

  out.metadata = {
    ...(out.metadata ?? {}),
    annotations: { ...(out.metadata?.annotations ?? {}), [ANNOTATION.scrape]: 'true', [ANNOTATION.port]: String(PROMETHEUS_PORT), [ANNOTATION.path]: PROMETHEUS_PATH },
  };
  outSpec.initContainers = [...(outSpec.initContainers ?? []), initContainer(options, iptablesRestoreInput(exclusions), bootstrapYaml)];
  outSpec.containers = [...outSpec.containers, envoyContainer(options, probes)];
  outSpec.volumes = [
    ...(outSpec.volumes ?? []),
    { name: BOOTSTRAP_VOLUME, emptyDir: {} },
    ...(options.trustBundle ? [{ name: CERT_VOLUME, secret: { secretName: certSecretName(serviceAccount) } }] : []),
  ];
  return { outcome: 'injected', template: out };
}

/** The bootstrap `compile` writes for this workload, with the probe listeners the rewritten probes reach. */
export function bootstrapOf(target: PodTarget, options: InjectOptions, probes: readonly OriginalProbe[]): Json {
  let b = proxyBootstrap(new EmitSession(), target, { xdsAddress: options.xdsAddress, xdsPort: options.xdsPort, trustDomain: options.trustDomain });
  if (options.trustBundle) {
    b = withXdsTls(b, {
      certificateChainFile: `${CERT_DIR}/tls.crt`,
      privateKeyFile: `${CERT_DIR}/tls.key`,
      trustedCa: options.trustBundle,
      serverSpiffeId: spiffeId({ ...CONTROL_PLANE_ACCOUNT, trustDomain: options.trustDomain }),
    });
  }
  return withProbeListeners(
    b,
    probes.map((p) => ({
      kind: p.kind,
      listenerPort: probePort(p.kind),
      ...(p.https ? {} : { listenerPath: probePath(p.kind), appPath: p.path }),
      appPort: p.port,
      timeoutSeconds: p.timeoutSeconds,
    })),
  );
}

/** The shell the init container runs: the rules, then the bootstrap from its environment (no expansion inside it). */
export function initScript(iptables: string): string {
  return `iptables-restore --noflush <<'EOF'\n${iptables}EOF\nprintf '%s' "$ENVOY_BOOTSTRAP" > ${BOOTSTRAP_DIR}/${BOOTSTRAP_FILE}\n`;
}

function initContainer(options: InjectOptions, iptables: string, bootstrapYaml: string): Json {
  return {
    name: INIT_CONTAINER,
    image: options.initImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh'],
    args: ['-c', initScript(iptables)],
    env: [{ name: 'ENVOY_BOOTSTRAP', value: bootstrapYaml }],
    securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN'] }, runAsNonRoot: false, runAsUser: 0 },
    volumeMounts: [{ name: BOOTSTRAP_VOLUME, mountPath: BOOTSTRAP_DIR }],
  };
}

const fieldEnv = (name: string, fieldPath: string): Json => ({ name, valueFrom: { fieldRef: { fieldPath } } });

function envoyContainer(options: InjectOptions, probes: readonly OriginalProbe[]): Json {
  return {
    name: ENVOY_CONTAINER,
    image: options.envoyImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['envoy'],
    args: ['--log-level', options.envoyLogLevel ?? 'error', '--config-path', `${BOOTSTRAP_DIR}/${BOOTSTRAP_FILE}`],
    ports: [
      { name: 'proxy-admin', containerPort: ADMIN_PORT },
      { name: 'proxy-inbound', containerPort: INBOUND_PORT },
      { name: 'proxy-metrics', containerPort: PROMETHEUS_PORT },
      ...probes.map((p) => ({ name: `${p.kind}-port`, containerPort: probePort(p.kind) })),
    ],
    env: [
      fieldEnv('POD_UID', 'metadata.uid'),
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('POD_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    ],
    ...(options.envoyResources ? { resources: options.envoyResources } : {}),
    securityContext: { allowPrivilegeEscalation: false, runAsUser: ENVOY_UID },
    volumeMounts: [
      { name: BOOTSTRAP_VOLUME, mountPath: BOOTSTRAP_DIR, readOnly: true },
      ...(options.trustBundle ? [{ name: CERT_VOLUME, mountPath: CERT_DIR, readOnly: true }] : []),
    ],
  };
}

/**
 * The workload a pod belongs to, as the compiler names its proxy: the controller that owns it,
 * and for a ReplicaSet made by a Deployment (its name is `<deployment>-<pod-template-hash>`) the
 * Deployment; a pod of no controller is its own workload.
 */
export function workloadOfPod(metadata: Json | undefined): string {
  const owner = (metadata?.ownerReferences ?? []).find((o: Json) => o?.controller === true && typeof o.name === 'string');
  if (!owner) return String(metadata?.name ?? metadata?.generateName ?? '');
  const hash = metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && typeof hash === 'string' && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}
