/**
 * Kubernetes object names, as the API server validates them (k8s.io/apimachinery
 * pkg/util/validation): the one place the parser's IR builders, the identity code and the CLI
 * learn what a namespace, a Service name or a ServiceAccount name may be.
 *
 * Names become output directories (`OUT/<namespace>/<workload>/`), secret names, SNI and
 * principals, so a name Kubernetes would refuse (`..`, `/`, uppercase, unicode, 300 characters,
 * an empty string) is refused here too, before anything is built from it.
 */

/** The three name formats Kubernetes uses for object names. */
export type NameFormat =
  /** RFC 1123 label: Namespace names, every `metadata.namespace`. */
  | 'label'
  /** RFC 1035 label: Service names (they become DNS labels and must not start with a digit). */
  | 'service'
  /** RFC 1123 subdomain: most other kinds (Pod, Deployment, ServiceAccount, every custom resource). */
  | 'subdomain';

/** Characters in an RFC 1123 label (`validation.DNS1123LabelMaxLength`). */
export const MAX_LABEL_LENGTH = 63;
/** Characters in an RFC 1123 subdomain (`validation.DNS1123SubdomainMaxLength`). */
export const MAX_SUBDOMAIN_LENGTH = 253;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** How each format is called in a message. */
export const FORMAT_NAMES: Readonly<Record<NameFormat, string>> = {
  label: 'RFC 1123 label',
  service: 'RFC 1035 label',
  subdomain: 'RFC 1123 subdomain',
};

export function isValidName(value: string, format: NameFormat): boolean {
  return nameProblem(value, format) === undefined;
}

/**
 * Why `value` is not a valid name of `format`, in words a user can act on (the first problem
 * found, most telling first); undefined when it is valid.
 */
export function nameProblem(value: string, format: NameFormat): string | undefined {
  if (value === '') return 'it is empty';
  const max = format === 'subdomain' ? MAX_SUBDOMAIN_LENGTH : MAX_LABEL_LENGTH;
  if (value.length > max) return `it has ${value.length} characters, more than ${max}`;
  const pattern = format === 'label' ? LABEL : format === 'service' ? LABEL_1035 : SUBDOMAIN;
  if (pattern.test(value)) return undefined;
  // The two that make a path escape its directory, named as such.
  if (value.includes('/')) return 'it contains "/"';
  if (value.includes('..')) return 'it contains ".."';
  const allowed = format === 'subdomain' ? /[-a-z0-9.]/ : /[-a-z0-9]/;
  for (const ch of value) {
    if (allowed.test(ch)) continue;
    if (/[A-Z]/.test(ch)) return 'it has uppercase letters (names are lowercase)';
    if (ch === '.') return 'it contains "."';
    return `it contains ${describeChar(ch)}; only lowercase letters, digits, "-"${format === 'subdomain' ? ' and "."' : ''} are allowed`;
  }
  if (format === 'subdomain' && /^\.|\.$/.test(value)) return 'it starts or ends with a dot';
  if (format === 'service' && !/^[a-z]/.test(value)) return 'it must start with a lowercase letter';
  if (format === 'subdomain') return 'each dot-separated part must start and end with a lowercase letter or digit';
  return 'it must start and end with a lowercase letter or digit';
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code > 0x7e) return `the non-ASCII character "${ch}" (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `"${ch}"`;
}

/** A name as a message shows it: quoted and escaped, and cut when long (a 10,000-character name is not repeated in full). */
export function displayName(value: string): string {
  const max = 80;
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}

/**
 * Why `value` cannot name a Service the way TrafficSplit does (`svc`, `svc.ns`,
 * `svc.ns.svc.cluster.local`): a subdomain whose first part is a Service name and whose second
 * part, when there is one, a namespace.
 */
export function serviceReferenceProblem(value: string): string | undefined {
  const whole = nameProblem(value, 'subdomain');
  if (whole) return whole;
  const dot = value.indexOf('.');
  const service = dot < 0 ? value : value.slice(0, dot);
  const next = dot < 0 ? -1 : value.indexOf('.', dot + 1);
  const namespace = dot < 0 ? undefined : value.slice(dot + 1, next < 0 ? undefined : next);
  const first = nameProblem(service, 'service');
  if (first) return `its Service part ${displayName(service)} is not an ${FORMAT_NAMES.service}: ${first}`;
  const second = namespace === undefined ? undefined : nameProblem(namespace, 'label');
  if (second) return `its namespace part ${displayName(namespace!)} is not an ${FORMAT_NAMES.label}: ${second}`;
  return undefined;
}
