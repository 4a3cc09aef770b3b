/**
 * Every emitted resource must be a valid Envoy message: encoded with the real Envoy protos
 * (unknown fields, wrong types, unknown enum values and unknown `@type`s in Anys all fail),
 * decoded, and re-encoded to the same bytes. A failure is a compiler bug, reported as
 * SMI9001 `proto-encode`, never thrown.
 *
 * Proxies share most of their resources (see shared.ts), so verdicts are cached per object:
 * a 5,000-proxy mesh encodes each distinct filter chain or load assignment once, not 5,000 times.
 */
import { diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import { encodeProtoJson, envoyType } from '../envoy/protos.ts';
import { TYPE } from './names.ts';
import { resourceName, TYPE_URL, XDS_KINDS, type ProxyConfig } from './types.ts';

/** Verdict per checked object: undefined = fine, a string = why it does not encode. */
const verdicts = new WeakMap<object, string | undefined>();
/** Objects already reported to a reporter, so a shared broken resource is reported once, not once per proxy. */
const reported = new WeakMap<Reporter, WeakSet<object>>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Why `json` is not a valid `typeUrl` message, or undefined when it is. Cached per object. */
export function protoProblem(typeUrl: string, json: object): string | undefined {
  if (verdicts.has(json)) return verdicts.get(json);
  let problem: string | undefined;
  try {
    const bytes = encodeProtoJson(typeUrl, json);
    const type = envoyType(typeUrl);
    const again = type.encode(type.decode(bytes)).finish();
    if (!sameBytes(bytes, again)) problem = 'decoding and re-encoding changes the bytes';
  } catch (err) {
    problem = err instanceof Error ? err.message : String(err);
  }
  verdicts.set(json, problem);
  return problem;
}

function report(reporter: Reporter, subject: object, typeName: string, name: string, detail: string): void {
  let seen = reported.get(reporter);
  if (!seen) reported.set(reporter, (seen = new WeakSet()));
  if (seen.has(subject)) return;
  seen.add(subject);
  reporter.report(diagnostic('proto-encode', { typeName, name, detail }));
}

/** Checks every resource of the proxy (and its bootstrap) against the Envoy protos; problems become SMI9001 diagnostics. */
export function checkProtos(proxy: ProxyConfig, reporter: Reporter): void {
  for (const kind of XDS_KINDS) {
    const expected = TYPE_URL[kind];
    for (const resource of proxy.resources[kind]) {
      const typeName = expected.replace(/^type\.googleapis\.com\//, '');
      const name = `${resourceName(resource)} (proxy ${proxy.nodeId})`;
      const problem =
        resource['@type'] !== expected
          ? `@type is ${String(resource['@type'])}, but ${kind} must be ${expected}`
          : protoProblem(expected, resource);
      if (problem !== undefined) report(reporter, resource, typeName, name, problem);
    }
  }
  const problem = protoProblem(TYPE.bootstrap, proxy.bootstrap);
  if (problem !== undefined) {
    report(reporter, proxy.bootstrap, 'envoy.config.bootstrap.v3.Bootstrap', `bootstrap (proxy ${proxy.nodeId})`, problem);
  }
}
