/**
 * OSM's pod annotations that steer injection (pkg/injector/exclusions.go, webhook.go), parsed
 * as OSM parses them: comma-separated lists with spaces allowed, ports 1..65535, CIDRs. A value OSM
 * would refuse (and so refuse the pod) is a problem here too, never silently dropped.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ANNOTATION } from './constants.ts';
import type { Exclusions } from './iptables.ts';

export interface AnnotationProblem {
  readonly annotation: string;
  readonly value: string;
  readonly detail: string;
}

type Annotations = Readonly<Record<string, unknown>> | undefined;

/** `enabled`/`yes`/`true`, `disabled`/`no`/`false` (any case), or undefined when absent. */
export function injectionSetting(annotations: Annotations, problems: AnnotationProblem[]): boolean | undefined {
  const value = annotations?.[ANNOTATION.injection];
  if (value === undefined) return undefined;
  switch (String(value).toLowerCase()) {
    case 'enabled':
    case 'yes':
    case 'true':
      return true;
    case 'disabled':
    case 'no':
    case 'false':
      return false;
    default:
      problems.push({ annotation: ANNOTATION.injection, value: String(value), detail: 'must be enabled or disabled (yes/no, true/false)' });
      return undefined;
  }
}

function items(value: unknown): string[] {
  return String(value).split(',').map((s) => s.trim());
}

function ports(annotations: Annotations, key: string, problems: AnnotationProblem[]): number[] {
  const value = annotations?.[key];
  if (value === undefined) return [];
  const out: number[] = [];
  for (const item of items(value)) {
    const port = /^\d+$/.test(item) ? Number(item) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      problems.push({ annotation: key, value: String(value), detail: `'${item}' is not a port (1..65535)` });
      return [];
    }
    if (!out.includes(port)) out.push(port);
  }
  return out;
}

function isCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const bits = Number(m[2]);
  return (isIPv4(m[1]) && bits <= 32) || (isIPv6(m[1]) && bits <= 128);
}

function cidrs(annotations: Annotations, key: string, problems: AnnotationProblem[]): string[] {
  const value = annotations?.[key];
  if (value === undefined) return [];
  const out: string[] = [];
  for (const item of items(value)) {
    if (!isCidr(item)) {
      problems.push({ annotation: key, value: String(value), detail: `'${item}' is not an IP range in CIDR notation (10.0.0.0/8)` });
      return [];
    }
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

/** The pod's exclusion annotations, deduplicated in the order given. */
export function exclusionsOf(annotations: Annotations, problems: AnnotationProblem[]): Exclusions {
  return {
    outboundPorts: ports(annotations, ANNOTATION.outboundPorts, problems),
    inboundPorts: ports(annotations, ANNOTATION.inboundPorts, problems),
    outboundIpRanges: cidrs(annotations, ANNOTATION.outboundIpRanges, problems),
    outboundIpRangesIncluded: cidrs(annotations, ANNOTATION.outboundIpRangesIncluded, problems),
  };
}
