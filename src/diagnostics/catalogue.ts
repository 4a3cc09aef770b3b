/**
 * Every diagnostic smi-compile can report, as data. Codes are stable: never reuse or
 * renumber one; retire a code by marking it `retired: true` instead of deleting it.
 *
 * Ranges: SMI1xxx input and schema, SMI2xxx references, SMI3xxx semantics,
 * SMI4xxx output tree, SMI5xxx xDS server, SMI6xxx certificates and mTLS, SMI7xxx Envoy's own
 * verdict (`compile --verify-envoy`), SMI8xxx Kubernetes source (`serve --kubernetes`),
 * SMI9xxx internal errors (compiler bugs).
 */
export type Level = 'error' | 'warning' | 'info';

export interface CatalogueEntry {
  readonly code: `SMI${number}`;
  readonly name: string;
  readonly level: Level;
  /** Message template; `{placeholders}` are filled by the reporter. */
  readonly message: string;
  /** What went wrong and how to fix it, one paragraph. */
  readonly explanation: string;
  readonly retired?: boolean;
}

/**
 * The entries as literal types (`as const`), so that a diagnostic's name and the arguments of
 * its template are checked by the type checker (diagnostic.ts).
 */
const ENTRIES = [
  // ── SMI1xxx: reading input ──────────────────────────────────────────────
  {
    code: 'SMI1001',
    name: 'yaml-syntax',
    level: 'error',
    message: 'YAML syntax error: {detail}',
    explanation:
      'The file is not valid YAML (or JSON), so none of the documents at or after the error can be read. Fix the syntax at the reported position; `yamllint` or an editor with YAML support shows the same problem.',
  },
  {
    code: 'SMI1002',
    name: 'schema-type',
    level: 'error',
    message: '{kind} field {path} must be {expected}, not {actual}',
    explanation:
      'A field has the wrong type, for example `methods: GET` where the schema wants a list (`methods: [GET]`). The API server would reject the object; change the value to the type the CRD declares.',
  },
  {
    code: 'SMI1003',
    name: 'schema-unknown-field',
    level: 'error',
    message: '{kind} has no field {path}{hint}',
    explanation:
      'The field is not part of the schema of this kind and version. It is usually a typo or a field placed at the wrong level (for example `matches` beside `spec` instead of inside it). The API server would prune or reject it, so the policy you meant would silently not apply.',
  },
  {
    code: 'SMI1004',
    name: 'schema-required',
    level: 'error',
    message: '{kind} {path} is missing required field {field}',
    explanation:
      'A field that the kind requires is missing. Add it; without it the object cannot be interpreted (a TrafficTarget without `destination`, a Service port without `port`).',
  },
  {
    code: 'SMI1005',
    name: 'schema-value',
    level: 'error',
    message: '{kind} field {path} {detail}',
    explanation:
      'A field has a value the schema does not allow: outside an enumeration, out of range, or not matching the required pattern. Use one of the values the CRD documents.',
  },
  {
    code: 'SMI1006',
    name: 'unknown-kind',
    level: 'info',
    message: 'skipping {apiVersion} {kind}: not a kind smi-compile reads',
    explanation:
      'The document is a valid Kubernetes object of a kind that does not influence mesh configuration (a ConfigMap, an Ingress, a CRD definition). It is skipped. Nothing to fix; suppress the code if the notice is noise.',
  },
  {
    code: 'SMI1007',
    name: 'unsupported-api-version',
    level: 'error',
    message: '{kind} apiVersion {apiVersion} is not supported; use one of {supported}',
    explanation:
      'The kind is one smi-compile reads, but not at this API version. SMI publishes TrafficTarget as access.smi-spec.io/v1alpha1..v1alpha3, HTTPRouteGroup and TCPRoute as specs.smi-spec.io/v1alpha1..v1alpha4, TrafficSplit as split.smi-spec.io/v1alpha1..v1alpha4. Change the apiVersion to a published one.',
  },
  {
    code: 'SMI1008',
    name: 'missing-type-meta',
    level: 'error',
    message: 'document has no {field}; every Kubernetes object needs apiVersion and kind',
    explanation:
      'Without `apiVersion` and `kind` the document cannot be interpreted. Add both, as `kubectl apply` requires.',
  },
  {
    code: 'SMI1009',
    name: 'unreadable-input',
    level: 'error',
    message: 'cannot read {path}: {detail}',
    explanation:
      'A path given on the command line does not exist or cannot be read. Check the path and the permissions.',
  },
  {
    code: 'SMI1010',
    name: 'document-not-object',
    level: 'error',
    message: 'document is a {actual}, not a Kubernetes object',
    explanation:
      'A YAML document must be a mapping with `apiVersion`, `kind` and `metadata`. A bare list or scalar is not an object; wrap lists in `kind: List` with `items:`.',
  },
  {
    code: 'SMI1011',
    name: 'duplicate-key',
    level: 'error',
    message: 'duplicate key {key}',
    explanation:
      'The same key appears twice in one mapping. YAML forbids it and tools disagree on which value wins; keep one.',
  },
  {
    code: 'SMI1012',
    name: 'no-input',
    level: 'warning',
    message: 'no manifests found in {path}',
    explanation:
      'The path holds no `.yaml`, `.yml` or `.json` files, so there is nothing to compile. Check the path.',
  },
  {
    code: 'SMI1013',
    name: 'binary-input',
    level: 'error',
    message: 'file is not UTF-8 text ({detail})',
    explanation:
      'The file contains bytes that are not valid UTF-8 or a NUL byte; it is probably binary or in another encoding. Convert it to UTF-8 or remove it from the input.',
  },
  {
    code: 'SMI1014',
    name: 'input-too-large',
    level: 'error',
    message: 'file is {size} bytes, over the limit of {limit} bytes',
    explanation:
      'Manifests this large are almost certainly not hand-written policy. The limit protects CI and the control plane from exhausting memory; raise it with `--max-file-size` if the file is genuine.',
  },
  {
    code: 'SMI1015',
    name: 'alias-limit',
    level: 'error',
    message: 'YAML aliases expand past the limit of {limit} nodes',
    explanation:
      'The document uses aliases that expand exponentially (a "billion laughs" document). Expand the aliases by hand or remove them.',
  },
  {
    code: 'SMI1016',
    name: 'depth-limit',
    level: 'error',
    message: 'document nests deeper than {limit} levels',
    explanation:
      'No Kubernetes or SMI object nests this deeply; the document is malformed or hostile. Flatten it.',
  },
  {
    code: 'SMI1017',
    name: 'yaml-feature',
    level: 'warning',
    message: '{detail}',
    explanation:
      'The document uses a YAML feature (custom tags, merge keys) that Kubernetes tooling handles inconsistently. Write the plain value instead.',
  },
  {
    code: 'SMI1018',
    name: 'empty-document',
    level: 'info',
    message: 'empty document skipped',
    explanation: 'A YAML document holds nothing (for example two `---` in a row). It is skipped.',
  },
  {
    code: 'SMI1019',
    name: 'endpointslice-without-service',
    level: 'warning',
    message: 'EndpointSlice {namespace}/{name} has no kubernetes.io/service-name label; it belongs to no Service and is ignored',
    explanation:
      'Kubernetes ties an EndpointSlice to its Service only through the `kubernetes.io/service-name` label. Without it the addresses cannot be routed to. Add the label with the Service name.',
  },
  {
    code: 'SMI1020',
    name: 'empty-file',
    level: 'warning',
    message: 'file holds no documents',
    explanation:
      'The file is empty or holds only comments and blank lines. It is often a file truncated by a failed write or an interrupted editor save; `kubectl apply` refuses it ("no objects passed to apply"). Restore its content or remove it.',
  },
  {
    code: 'SMI1021',
    name: 'too-many-errors',
    level: 'error',
    message: 'more than {limit} errors in this file; the rest of it is not read',
    explanation:
      'A file this broken is almost certainly not a manifest (a log, a binary-ish dump, a generated file gone wrong). Reading it to the end would only print thousands more errors and cost time; fix the first errors or remove the file.',
  },
  {
    code: 'SMI1022',
    name: 'invalid-name',
    level: 'error',
    message: '{kind} {field} {value} is not a valid {format}: {reason}',
    explanation:
      'Kubernetes names are RFC 1123 labels (Namespace names and every `metadata.namespace`: lowercase letters, digits and `-`, at most 63 characters), RFC 1035 labels (Service names: the same, starting with a letter) or RFC 1123 subdomains (most other kinds, every SMI and OSM resource: labels joined by dots, at most 253 characters). The API server refuses any other name, and smi-compile builds directories, secret names and principals from these names, so a name with `/`, `..`, uppercase or non-ASCII letters, an empty name or an over-long one is refused here too: the object is left out (nothing is built or written from it) and references to it say it is invalid. Rename it.',
  },
  {
    code: 'SMI1023',
    name: 'invalid-name-reference',
    level: 'error',
    message: '{kind} {field} {value} cannot name a {format}: {reason}',
    explanation:
      'The field refers to another object (a ServiceAccount, a namespace, a Service, a route group) by a name that no Kubernetes object can have, so it can never resolve; and since these names become secret names, principals and host names, the object is refused rather than built. Fix the name: ServiceAccounts and route groups are RFC 1123 subdomains, namespaces RFC 1123 labels, Services RFC 1035 labels (`svc`, `svc.namespace` or the FQDN in a TrafficSplit).',
  },
  // ── SMI2xxx: references ─────────────────────────────────────────────────
  {
    code: 'SMI2001',
    name: 'missing-route-group',
    level: 'error',
    message: 'TrafficTarget {target} refers to {ruleKind} {namespace}/{name}, which does not exist',
    explanation:
      'A rule of a TrafficTarget names an HTTPRouteGroup or TCPRoute that is not in the input. SMI route groups are looked up in the TrafficTarget\'s namespace. Until it exists the rule admits nothing. Create the route group or fix the name.',
  },
  {
    code: 'SMI2002',
    name: 'unknown-match-name',
    level: 'error',
    message: '{ruleKind} {namespace}/{group} has no match named {match}',
    explanation:
      'A TrafficTarget rule lists a match name that its HTTPRouteGroup does not define, so that part of the rule admits nothing. Fix the name or add the match to the route group.',
  },
  {
    code: 'SMI2003',
    name: 'missing-split-apex',
    level: 'error',
    message: 'TrafficSplit {split} apex service {service} does not exist',
    explanation:
      'The root (apex) service of a TrafficSplit must be a Service in the TrafficSplit\'s namespace; clients address it and the split re-routes their traffic. Create the Service or fix `spec.service`.',
  },
  {
    code: 'SMI2004',
    name: 'missing-split-backend',
    level: 'error',
    message: 'TrafficSplit {split} backend service {service} does not exist',
    explanation:
      'Every backend of a TrafficSplit must be a Service in the TrafficSplit\'s namespace. Traffic weighted to a missing backend would fail. Create the Service or remove the backend.',
  },
  {
    code: 'SMI2005',
    name: 'identity-kind',
    level: 'error',
    message: 'TrafficTarget {target} {role} has kind {kind}; only ServiceAccount is supported',
    explanation:
      'SMI identifies sources and destinations by Kubernetes ServiceAccount. Other kinds are not identities a mesh can authenticate, so the entry admits nothing. Use `kind: ServiceAccount`.',
  },
  {
    code: 'SMI2006',
    name: 'service-account-without-workload',
    level: 'warning',
    message: 'TrafficTarget {target} destination ServiceAccount {namespace}/{name} is used by no workload',
    explanation:
      'No Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod runs as the destination ServiceAccount, so the TrafficTarget protects nothing. Check the name, or the `serviceAccountName` of the workload you meant.',
  },
  {
    code: 'SMI2007',
    name: 'selector-matches-nothing',
    level: 'warning',
    message: 'Service {namespace}/{name} selects no workload',
    explanation:
      'The Service\'s selector matches the pod labels of no workload in the input, so no proxy serves it and callers get no endpoints. Check the labels.',
  },
  {
    code: 'SMI2008',
    name: 'missing-service-account',
    level: 'warning',
    message: '{kind} {namespace}/{name} runs as ServiceAccount {serviceAccount}, which is not in the input',
    explanation:
      'The workload names a ServiceAccount that no manifest declares. Kubernetes refuses to create its pods until the ServiceAccount exists. Add the ServiceAccount (the default account `default` is always assumed to exist).',
  },
  {
    code: 'SMI2009',
    name: 'unresolved-target-port',
    level: 'error',
    message: 'Service {namespace}/{name} port {port} targets container port {targetPort}, which no selected workload declares',
    explanation:
      'A named `targetPort` must match a `containerPort` name of the selected pods. Without it Kubernetes has no endpoint port and the mesh cannot name the inbound cluster. Name the container port or use a number.',
  },
  {
    code: 'SMI2010',
    name: 'unknown-rule-kind',
    level: 'error',
    message: 'TrafficTarget {target} rule has kind {kind}; expected HTTPRouteGroup, TCPRoute or UDPRoute',
    explanation:
      'A TrafficTarget rule must name a route group kind. Retired: every published TrafficTarget schema restricts the rule kind, so a wrong kind is reported as a schema violation (SMI1005) before references are resolved.',
    retired: true,
  },
  {
    code: 'SMI2011',
    name: 'split-apex-is-backend',
    level: 'error',
    message: 'TrafficSplit {split} lists its apex service {service} as a backend',
    explanation:
      'A split whose backend is its own apex would route to itself. OSM does not resolve this; list the versioned services as backends.',
  },
  // ── SMI3xxx: semantics ──────────────────────────────────────────────────
  {
    code: 'SMI3001',
    name: 'target-namespace-mismatch',
    level: 'warning',
    message: 'TrafficTarget {target} is in namespace {namespace} but its destination is in {destinationNamespace}; OSM ignores it',
    explanation:
      'SMI access policies apply only in the namespace of their destination. A TrafficTarget elsewhere is ignored, so the access you meant to grant is not granted. Move it to the destination\'s namespace.',
  },
  {
    code: 'SMI3002',
    name: 'split-zero-weight',
    level: 'error',
    message: 'TrafficSplit {split} backend weights sum to 0',
    explanation:
      'With every weight 0 no backend can receive traffic and Envoy rejects the weighted cluster. Give at least one backend a positive weight.',
  },
  {
    code: 'SMI3003',
    name: 'split-duplicate-apex',
    level: 'warning',
    message: 'TrafficSplit {split} has the same apex {service} as {other}; only {other} applies',
    explanation:
      'Several TrafficSplits for one apex service conflict. OSM silently uses the first one it sees; smi-compile uses the first by namespace/name. Merge them into one.',
  },
  {
    code: 'SMI3004',
    name: 'split-backend-port-mismatch',
    level: 'error',
    message: 'TrafficSplit {split} backend {service} has no port {port} matching the apex',
    explanation:
      'A backend of a split receives the apex\'s traffic on the same port, so it must expose every port of the apex service. Add the port to the backend Service.',
  },
  {
    code: 'SMI3005',
    name: 'route-group-without-matches',
    level: 'warning',
    message: '{kind} {namespace}/{name} has no matches',
    explanation:
      'A route group with no matches admits nothing when a TrafficTarget refers to it. Add matches, or remove the route group.',
  },
  {
    code: 'SMI3006',
    name: 'duplicate-resource',
    level: 'error',
    message: '{kind} {ref} is defined more than once (first at {first})',
    explanation:
      'The same kind, namespace and name appears twice in the input. `kubectl apply` keeps the last one; which one you meant is ambiguous. Remove one of them.',
  },
  {
    code: 'SMI3007',
    name: 'protocol-not-inferable',
    level: 'warning',
    message: 'Service {namespace}/{name} port {port} has no appProtocol and no protocol name prefix; assuming http',
    explanation:
      'The mesh needs each port\'s protocol. It takes `appProtocol`, else a name prefix (`http-`, `tcp-`, `grpc-`, `tcp-server-first-`), else assumes HTTP as OSM does. A TCP service assumed to be HTTP breaks; set `appProtocol` explicitly.',
  },
  {
    code: 'SMI3008',
    name: 'filter-chain-overlap',
    level: 'error',
    message: 'Services {first} and {second} both claim {address}:{port}',
    explanation:
      'Two services resolve to the same IP and port, so the outbound listener would carry two filter chains with the same match and Envoy rejects the whole listener. Give them different ClusterIPs or ports.',
  },
  {
    code: 'SMI3009',
    name: 'invalid-regex',
    level: 'error',
    message: 'invalid RE2 regular expression {regex}: {detail}',
    explanation:
      'Envoy evaluates path and header regexes with Google RE2, which has no lookaround or backreferences. A regex that RE2 rejects makes Envoy reject the whole route configuration. Rewrite it in RE2 syntax.',
  },
  {
    code: 'SMI3010',
    name: 'route-shadowed',
    level: 'warning',
    message: 'match {match} of {group} can never be reached: {earlier} matches first',
    explanation:
      'Envoy evaluates routes in order and stops at the first match. A route whose requests are all taken by an earlier route never applies: its requests are authorized by the earlier route\'s sources instead, so a source admitted only through the later match is denied. Reorder the matches (specific before general) or narrow the earlier one.',
  },
  {
    code: 'SMI3011',
    name: 'empty-method-list',
    level: 'warning',
    message: 'match {match} of {group} has an empty method list and matches no request',
    explanation:
      'An HTTPRouteGroup match with `methods: []` admits no method, so the match can never apply. Remove `methods` to allow all, or list the methods (`["*"]` for any).',
  },
  {
    code: 'SMI3012',
    name: 'udp-route-unsupported',
    level: 'warning',
    message: 'UDPRoute {namespace}/{name} is accepted but has no effect: the mesh proxies TCP and HTTP only',
    explanation:
      'Envoy sidecars in this mesh do not proxy UDP, as in OSM. TrafficTargets naming a UDPRoute admit nothing.',
  },
  {
    code: 'SMI3013',
    name: 'permissive-mode-ignores-targets',
    level: 'info',
    message: 'permissive traffic policy mode is on: {count} TrafficTarget(s) are not enforced',
    explanation:
      'With `enablePermissiveTrafficPolicyMode: true` every workload may reach every service and TrafficTargets are not enforced. Turn permissive mode off to enforce them.',
  },
  {
    code: 'SMI3014',
    name: 'multiple-mesh-configs',
    level: 'warning',
    message: 'MeshConfig {name} ignored; {first} applies',
    explanation: 'Only one MeshConfig configures the mesh. Remove the extra ones.',
  },
  {
    code: 'SMI3015',
    name: 'split-protocol-mismatch',
    level: 'warning',
    message: 'TrafficSplit {split} apex port {port} speaks {apexProtocol} but backend {service} speaks {protocol} on it',
    explanation:
      'The apex and its backends should use the same protocol on a port; otherwise the split applies the apex\'s protocol handling to all backends.',
  },
  {
    code: 'SMI3016',
    name: 'headless-without-endpoints',
    level: 'info',
    message: 'headless Service {namespace}/{name} has no known pod IPs; its outbound filter chain matches no address',
    explanation:
      'A headless Service has no ClusterIP, so callers reach pod IPs directly. Without Endpoints or EndpointSlices in the input the outbound filter chain cannot match any address. Add the EndpointSlice or accept that this compile cannot route it.',
  },
  {
    code: 'SMI3017',
    name: 'split-negative-weight',
    level: 'error',
    message: 'TrafficSplit {split} backend {service} has negative weight {weight}',
    explanation: 'Weights are relative shares and must be 0 or more.',
  },
  {
    code: 'SMI3018',
    name: 'split-weight-too-large',
    level: 'error',
    message: 'TrafficSplit {split} backend {service} has weight {weight}, more than Envoy\'s limit {limit}',
    explanation:
      'Envoy and gRPC read weights as unsigned 32-bit integers, so a weight above 4294967295 cannot be sent (it used to surface as an internal error). v1alpha1 weights are quantities and count in thousandths (`1` is 1000). Weights are relative: divide them all by the same number.',
  },
  {
    code: 'SMI3019',
    name: 'split-weight-sum-too-large',
    level: 'error',
    message: 'TrafficSplit {split} backend weights sum to {sum}, more than Envoy\'s limit {limit}',
    explanation:
      'Envoy (and gRPC) reject a weighted cluster whose weights add up to more than 4294967295, the largest unsigned 32-bit integer, and with it the whole route configuration. Weights are relative: divide them all by the same number.',
  },
  {
    code: 'SMI3020',
    name: 'reference-to-invalid',
    level: 'error',
    message: '{referrer} refers to {kind} {ref}, which is invalid ({code} at {where})',
    explanation:
      'The object this field names is in the input, but it was refused (a schema error, or a name Kubernetes would refuse), so nothing was built from it and the reference resolves to nothing: a TrafficTarget rule admits nothing, a TrafficSplit is not applied. Fix the error reported at the named place; this one goes away with it.',
  },
  {
    code: 'SMI3023',
    name: 'regex-too-long',
    level: 'error',
    message: 'regex {regex} is too long to check: the limit is {limit} characters',
    explanation:
      'Every path and header regex is compiled to check it, here and by every Envoy, and the cost grows with its length. Envoy rejects an RE2 program of more than 100 instructions by default (its runtime key `re2.max_program_size.error_level`), about 96 literal characters, so a regex this long is either generated by mistake or hostile. The compiler does not compile it at all, so that one field cannot stall `lint` or `serve`. Shorten it: match a prefix, or split it into several matches.',
  },
  {
    code: 'SMI3024',
    name: 'regex-program-size',
    level: 'warning',
    message: 'regex {regex} compiles to an RE2 program of at least {size} instructions; Envoy rejects more than {limit} by default',
    explanation:
      'Envoy compiles each regex with RE2 and refuses a program larger than its runtime key `re2.max_program_size.error_level` (100 unless raised), and then rejects the whole route configuration: the proxy keeps its previous routes. The size here is a lower bound (RE2 in Envoy counts UTF-8 bytes, re2js counts code points). Simplify the regex (a bounded repeat like `{100}` costs one instruction per repetition), or raise the runtime limit on every proxy.',
  },
  // ── SMI4xxx: output tree ────────────────────────────────────────────────
  {
    code: 'SMI4001',
    name: 'output-path-unsafe',
    level: 'error',
    message: 'refusing to write {path}: {reason}; nothing written',
    explanation:
      'Every file smi-compile writes must land inside the output directory, at `<namespace>/<workload>/<file>`. A path built from names that hold `..`, `/`, a backslash, a NUL or another control character, an empty segment, or a segment longer than 255 bytes could land elsewhere, so the writer refuses it whatever the names passed before, and the compile writes nothing (exit 1). Lint reports the offending name at its line; fix the name.',
  },
  {
    code: 'SMI4002',
    name: 'output-not-owned',
    level: 'error',
    message: 'refusing to replace {dir}: {count} entr{plural} smi-compile did not write, or changed since: {examples}',
    explanation:
      'smi-compile replaces an output tree (`-o DIR`, `--check DIR --update`) only when it can prove it wrote every entry: the tree\'s manifest `.smi-compile.sha256` lists every file with its SHA-256, and every file is listed and unchanged. A file it did not write or that someone edited, a directory with none of its files, a symbolic link, a directory it cannot read or a special file is somebody else\'s, and replacing the tree would delete it. Nothing is written (exit 2). Move the listed entries away, or write the output to a directory of its own.',
  },
  {
    code: 'SMI4003',
    name: 'output-no-manifest',
    level: 'error',
    message: 'refusing to replace {dir}: it has no {manifest}, so nothing proves smi-compile wrote it (it holds {examples}); {hint}',
    explanation:
      'A non-empty directory without the manifest smi-compile writes into every tree is not replaced (exit 2): it may be a source tree, a home directory or `.` by mistake. A tree written by smi-compile before it wrote manifests (goldens checked in by an older version) is adopted by removing it and writing it again: `git rm -r -q DIR` (or `rm -r DIR` after checking nothing in it is yours), then rerun with `--update` (or `-o`); the new tree has a manifest and `git diff` shows what changed.',
  },
  {
    code: 'SMI4004',
    name: 'output-manifest-invalid',
    level: 'error',
    message: 'refusing to replace {dir}: {file} line {line} is not a manifest line (a SHA-256 in hex, two spaces, a path)',
    explanation:
      'The manifest `.smi-compile.sha256` is written by smi-compile in the format of `sha256sum` (64 hexadecimal digits, two spaces, a path inside the tree). A line that is not in that format means the file was edited or is not smi-compile\'s, so it proves nothing and the tree is not replaced (exit 2). Remove the directory after checking nothing in it is yours, and rerun.',
  },
  {
    code: 'SMI4005',
    name: 'output-not-directory',
    level: 'error',
    message: '{dir} is {what}, not a directory: {option} names the directory smi-compile writes its tree into',
    explanation:
      'smi-compile replaces the output directory as a whole, so it refuses (exit 2) to put a directory where a file or a symbolic link is: `-o out.txt` would otherwise turn the file into a directory, and `-o link` would replace the link. Name a directory that does not exist yet, an empty one, or one smi-compile wrote before; for a symbolic link, give the directory it points to.',
  },
  {
    code: 'SMI4006',
    name: 'golden-missing',
    level: 'error',
    message: 'golden directory {dir} does not exist; create it with --check {dir} --update',
    explanation:
      '`--check DIR` compares the compile with a golden tree. A missing DIR is a typo or a checkout without the goldens, not an empty tree that every file differs from, so it is an error (exit 2). `--update` creates it.',
  },
  {
    code: 'SMI4007',
    name: 'output-write-failed',
    level: 'error',
    message: 'cannot write {path}: {detail}; nothing written',
    explanation:
      'The file system refused a write of the output tree (no space left, no permission on the parent directory, a name the file system does not take). The staging directory is removed and the previous tree, if any, is left as it was (exit 1). Free space or fix the permissions and rerun.',
  },
  {
    code: 'SMI4008',
    name: 'tree-unreadable',
    level: 'error',
    message: 'cannot read the tree {dir}: {path} {detail}',
    explanation:
      'A golden tree compared with `--check` holds only directories and regular files that smi-compile can read. A directory without read permission would be compared as if it were empty, and a symbolic link (dangling, a loop, or one pointing outside the tree) is not followed; either is reported instead (exit 2). Fix the permission or replace the link with the files.',
  },
  // ── SMI5xxx: xDS server ─────────────────────────────────────────────────
  {
    code: 'SMI5001',
    name: 'serve-keeps-last-good',
    level: 'error',
    message: 'new input has {count} error(s); still serving the snapshot compiled at {version}',
    explanation:
      'The xDS server recompiled after a change and found errors. It keeps serving the last configuration that compiled cleanly, so proxies are unaffected. Fix the reported errors.',
  },
  {
    code: 'SMI5002',
    name: 'proxy-nack',
    level: 'warning',
    message: 'proxy {node} rejected {typeUrl} version {version}: {detail}',
    explanation:
      'A proxy refused a configuration (NACK). It keeps the last configuration it accepted, and the server does not resend the same version. This points at a compiler bug or an Envoy version mismatch; report it with the message.',
  },
  {
    code: 'SMI5003',
    name: 'serve-input-vanished',
    level: 'error',
    message: 'no manifests found under {paths}; still serving the snapshot compiled at {version}',
    explanation:
      'While serving, the manifest paths came back empty: a directory was removed, replaced or emptied (an interrupted `git checkout`, a ConfigMap volume mid-update, a deploy script). Serving an empty mesh would cut every proxy off, so the server keeps the last good configuration until manifests are back. To really empty the mesh, stop the server.',
  },
  {
    code: 'SMI5004',
    name: 'xds-stream-refused',
    level: 'warning',
    message: 'ended the ADS stream of {node} from {peer} with {status}: {detail}',
    explanation:
      'A client broke the xDS protocol or one of the server\'s bounds (docs/limits.md): a request before `node`, a node that is not a workload of the compiled manifests, a type URL that is no xDS resource type, a resource name over 2,048 characters, or more subscriptions and declared versions than a stream (16 MiB) or a connection (32 MiB) may hold. The stream ends with that gRPC status; other streams are not affected. A real Envoy or gRPC client reaching a bound points at a mesh far larger than the bounds were set for: say so in an issue.',
  },
  // ── SMI7xxx: Envoy's own verdict (compile --verify-envoy) ──────────────
  {
    code: 'SMI7001',
    name: 'envoy-rejects',
    level: 'error',
    message: 'Envoy {version} rejects the config of workload {workload} ({resource}): {reason}',
    explanation:
      '`compile --verify-envoy` loads each workload\'s static bootstrap (the same listeners, routes, clusters and secrets `serve` hands out, everything inline, with throwaway certificates in the certificate slots) into the real Envoy with `envoy --mode validate`, and Envoy refused it for the reason quoted, naming the resource it was building. A config Envoy refuses is a broken sidecar: the proxy would keep its previous config (over xDS) or not start (static). smi-compile\'s own checks should have caught it, so this is most likely a bug in smi-compile: please report it with the input; nothing was written.',
  },
  {
    code: 'SMI7002',
    name: 'envoy-no-verdict',
    level: 'error',
    message: 'Envoy {version} gave no verdict on workload {workload}: {detail}',
    explanation:
      'Envoy was started to validate the workload\'s static bootstrap but neither accepted nor rejected it: it crashed, was killed (out of memory, or past the validation time limit), or printed something other than a verdict. Run the command again; if it persists, run `envoy --mode validate -c bootstrap-static.yaml` on the file `compile --static` writes to see Envoy\'s own output.',
  },
  // ── SMI8xxx: Kubernetes source (serve --kubernetes) ─────────────────────
  {
    code: 'SMI8001',
    name: 'kube-kind-not-served',
    level: 'warning',
    message: 'the cluster serves {kind} ({group}) at {served}, none of which smi-compile reads ({accepted}); it is not watched',
    explanation:
      'Discovery found no version of this kind that the compiler accepts: its CRD is not installed (served is `none`), or it serves only versions smi-compile does not read. Objects of that kind in the cluster are then ignored, as if absent: with the SMI CRDs missing, no TrafficTarget admits anything and the mesh is restrictive. Install the CRD (OSM installs the SMI CRDs with the control plane) or serve one of the accepted versions, then restart the server: discovery runs at start.',
  },
  {
    code: 'SMI8002',
    name: 'kube-watch-failed',
    level: 'warning',
    message: 'reading {kind} from the Kubernetes API failed ({detail}); retrying in {retryMs} ms',
    explanation:
      'A list or watch of this kind ended with an error: the API server restarting or overloaded (429, 5xx), a dropped connection, a timeout. The server keeps serving what it compiled last and retries with a growing delay (up to 10 s), from the resourceVersion it had; if the API server has forgotten that version (410 Gone) it lists the kind again and compiles what changed meanwhile. Nothing to do unless it persists; then check that the API server is reachable from the pod.',
  },
  {
    code: 'SMI8003',
    name: 'kube-forbidden',
    level: 'error',
    message: 'the Kubernetes API refuses to let this identity read {resource} ({detail}); grant get, list and watch on it (deploy/rbac.yaml)',
    explanation:
      'RBAC denied a list or watch. Until every kind has been listed once the server does not start serving (a mesh read without, say, its EndpointSlices would send every proxy empty endpoints); after that it keeps what it has of the kind and retries. Bind the ClusterRole of deploy/rbac.yaml to the service account the server runs as, or grant the same get, list and watch in your own role.',
  },
  {
    code: 'SMI8004',
    name: 'kube-unreachable',
    level: 'warning',
    message: 'the Kubernetes API at {server} cannot be reached ({detail}); retrying in {retryMs} ms',
    explanation:
      'Discovery (which versions of which kinds the cluster serves) failed at start, so nothing has been read yet and nothing is served. The server retries with a growing delay. Check the kubeconfig (`--kubeconfig`, `KUBECONFIG`, or the in-cluster service account) and that the API server is reachable.',
  },
  // ── SMI801x: sidecar injection (inject, serve --inject-webhook) ─────────
  {
    code: 'SMI8010',
    name: 'inject-bad-annotation',
    level: 'error',
    message: '{kind} {name}: annotation {annotation} is {value}: {detail}',
    explanation:
      'An OSM injection annotation has a value OSM v1.2 would refuse: `openservicemesh.io/sidecar-injection` takes enabled or disabled (yes/no, true/false), the port exclusion lists take comma-separated ports 1..65535, the IP range lists comma-separated CIDRs (`10.0.0.0/8`). The workload is not injected (offline it is written back unchanged and the command exits 1; the webhook refuses the pod with this message, as OSM does), rather than injected with part of the exclusions silently dropped. Fix the value.',
  },
  {
    code: 'SMI8011',
    name: 'inject-skipped',
    level: 'info',
    message: '{kind} {name} is not injected: {reason}',
    explanation:
      'The workload is written back unchanged: it opted out (`openservicemesh.io/sidecar-injection: disabled` on the pod template or its Namespace), its Namespace in the same input is not labelled `openservicemesh.io/monitor=<mesh name>`, it uses the host network, or it already has the sidecar (injecting twice would add a second Envoy). Nothing to do unless you expected a sidecar.',
  },
  {
    code: 'SMI8012',
    name: 'inject-no-pod-template',
    level: 'error',
    message: '{kind} {name} has no pod template with containers at {path}',
    explanation:
      'A Deployment, StatefulSet, DaemonSet, ReplicaSet or Job carries its pods in `spec.template` (a Pod in `spec`), with a `containers` list; this one has none there, so there is nothing to add a sidecar to. The API server would refuse the object too. The document is written back unchanged.',
  },
  {
    code: 'SMI8013',
    name: 'inject-webhook-bad-review',
    level: 'error',
    message: 'the injection webhook got a request it cannot answer: {detail}',
    explanation:
      '`serve --inject-webhook` expects an `admission.k8s.io/v1` AdmissionReview with a Pod CREATE request, POSTed as JSON (what the API server sends for the MutatingWebhookConfiguration in deploy/). It answers 400 to anything else. Check that the webhook configuration points at `/mutate-pod-creation`, lists `admissionReviewVersions: [v1]` and matches only pods.',
  },
  // ── SMI802x: sidecar certificates kept in Secrets (serve --kubernetes --ca) ──
  {
    code: 'SMI8020',
    name: 'sidecar-cert-write-failed',
    level: 'warning',
    message: 'keeping Secret {secret} failed ({detail}); retrying in {retryMs} ms',
    explanation:
      'With `serve --kubernetes --ca` the server keeps a Secret `envoy-xds-cert-<serviceaccount>` (kubernetes.io/tls: tls.crt, tls.key, ca.crt) in every monitored namespace for every ServiceAccount, which injected sidecars mount for their xDS client certificate. Creating, renewing or deleting this one failed: the API server restarting or overloaded (429, 5xx), a dropped connection, a timeout. xDS keeps being served; the Secrets are reconciled again after a growing delay (up to 30 s). A pod whose Secret does not exist yet waits in ContainerCreating until it does. Nothing to do unless it persists.',
  },
  {
    code: 'SMI8021',
    name: 'sidecar-cert-secret-not-managed',
    level: 'warning',
    message: 'Secret {secret} exists and is not managed by smi-compile (no label app.kubernetes.io/managed-by=smi-compile); it is left as it is and not renewed',
    explanation:
      'A Secret with the name injected sidecars mount already exists, made by someone else (an operator with `ca issue` and `kubectl create secret tls`, cert-manager, a previous install). smi-compile never overwrites a Secret it did not create: the sidecars of that service account use whatever it holds, and its renewal is up to whoever made it. To let smi-compile keep it, delete it (it is created again within a resync), or label it `app.kubernetes.io/managed-by=smi-compile`. To provision every certificate yourself, run the server with `--no-sidecar-certs`.',
  },
  {
    code: 'SMI8022',
    name: 'sidecar-cert-forbidden',
    level: 'error',
    message: 'the Kubernetes API refuses to let this identity {verb} Secret {secret} ({detail}); grant the smi-compile-sidecar-certs ClusterRole (deploy/rbac.yaml) or run with --no-sidecar-certs',
    explanation:
      'RBAC denied a read or write of the Secrets that hold the sidecars\' xDS certificates. xDS keeps being served, but pods of the mesh that mount a missing Secret stay in ContainerCreating, and certificates in existing Secrets are not renewed. Bind deploy/rbac.yaml\'s `smi-compile-sidecar-certs` ClusterRole (get, list, create, update, delete on secrets) to the server\'s service account, or provision the Secrets yourself and pass `--no-sidecar-certs`. Retried with a growing delay (up to 30 s).',
  },
  {
    code: 'SMI8023',
    name: 'sidecar-cert-identity-refused',
    level: 'warning',
    message: 'no Secret {secret} for ServiceAccount {namespace}/{serviceAccount}: {detail}',
    explanation:
      'The CA refused to issue a certificate for this service account\'s identity (`<sa>.<ns>.<trust domain>`): the name cannot be put in a certificate, or has the form of a Kubernetes host name and would impersonate it (see SMI6xxx). No Secret is made for it, so an injected pod running as it waits in ContainerCreating. Rename the service account.',
  },
  // ── SMI9xxx: internal errors ────────────────────────────────────────────
  {
    code: 'SMI9001',
    name: 'proto-encode',
    level: 'error',
    message: 'internal error: {typeName} {name} does not encode under the Envoy protos: {detail}',
    explanation:
      'The compiler produced a resource that the real Envoy protos reject. This is a bug in smi-compile, not in your input; nothing was written. Please report it with the input that triggered it.',
  },
  {
    code: 'SMI9002',
    name: 'internal-error',
    level: 'error',
    message: 'internal error: {detail}; please report it',
    explanation: 'An unexpected failure inside smi-compile. Please report it with the input and `--debug` output.',
  },
  // ── SMI6xxx: certificates and mTLS ─────────────────────────────────────
  {
    code: 'SMI6001',
    name: 'ca-missing-file',
    level: 'error',
    message: 'certificate authority directory {dir} has no {file}',
    explanation:
      'The built-in CA (`--ca DIR`) reads `ca.crt` and `ca.key`, which `smi-compile ca init DIR` writes. The file provider (`--ca-provider file --ca DIR`) reads `tls.crt` (the signing CA certificate), `tls.key` (its key) and `ca.crt` (the roots to trust), the files cert-manager and Vault write for a CA certificate. Create the missing file or point `--ca` at the right directory.',
  },
  {
    code: 'SMI6002',
    name: 'ca-invalid',
    level: 'error',
    message: '{file}: {detail}',
    explanation:
      'A CA file cannot be used: it is not PEM, the certificate is not a CA (basic constraints `CA:TRUE` and key usage `keyCertSign`), the key does not belong to the certificate, or the certificate has expired. With cert-manager, issue the CA with `isCA: true`; check with `openssl x509 -in tls.crt -noout -text`.',
  },
  {
    code: 'SMI6003',
    name: 'ca-untrusted-chain',
    level: 'error',
    message: '{file} is not signed by any root in {bundle}',
    explanation:
      'Workload certificates are signed with the CA in `tls.crt`, and peers validate them against the roots in `ca.crt`. If `tls.crt` does not chain to one of those roots, every mTLS handshake in the mesh would fail, so the CA is refused. Put the issuing root (and, during a root rotation, the old and the new root) in `ca.crt`.',
  },
  {
    code: 'SMI6004',
    name: 'ca-reload-failed',
    level: 'warning',
    message: 'reloading the CA from {dir} failed: {detail}; still using the CA loaded at {loadedAt}',
    explanation:
      'The CA files changed but the new ones cannot be used (see the error before this one). The server keeps issuing with the CA it had, so proxies notice nothing. Fix the files; the next change is picked up.',
  },
  {
    code: 'SMI6005',
    name: 'ca-expiring',
    level: 'warning',
    message: '{what} {subject} expires at {notAfter}, in {days} day(s)',
    explanation:
      'A CA certificate is close to its end. Workload certificates are never issued beyond it, so they get shorter and shorter, and after it nothing can be issued. Rotate the root (`smi-compile ca rotate DIR`) or renew the CA certificate in your PKI.',
  },
  {
    code: 'SMI6006',
    name: 'cert-renewal-failed',
    level: 'error',
    message: 'issuing a certificate for {identity} failed: {detail}; retrying in {retry}',
    explanation:
      'The CA could not issue a workload certificate (usually an unusable or expired CA, see the errors before). The server retries; proxies keep their current certificate until it expires, after which their mTLS handshakes fail. Fix the CA.',
  },
  {
    code: 'SMI6007',
    name: 'xds-unauthenticated',
    level: 'warning',
    message: 'xDS on {address}:{port} is unauthenticated: any client that reaches it can read any workload\'s configuration; run serve with --ca DIR to require mesh certificates',
    explanation:
      'Without `--ca`, the xDS port is plaintext and trusts the `node.id` a client claims, and no certificates are served over SDS. That is fine on a laptop or behind a network policy; in a cluster, give the server a CA (`smi-compile ca init DIR`, then `serve --ca DIR`) so that each proxy must prove its service account with a mesh certificate.',
  },
  {
    code: 'SMI6008',
    name: 'xds-identity-mismatch',
    level: 'warning',
    message: 'xDS client presenting {presented} may not ask as {node} (service account {expected})',
    explanation:
      'With `--ca`, an xDS client proves who it is with its certificate, and may only ask for the configuration of a workload running as that service account. A mismatch is refused with PERMISSION_DENIED: either the proxy was given another workload\'s certificate or node id, or someone is trying to read another workload\'s secrets.',
  },
  {
    code: 'SMI6009',
    name: 'private-keys-written',
    level: 'warning',
    message: 'wrote {count} private key(s) under {dir} (mode 0600): anyone who can read them can impersonate those workloads until {notAfter}',
    explanation:
      '`compile --emit-secrets` puts a certificate and its private key beside each workload\'s config so that a static Envoy can run without SDS (demos, air-gapped tests). Keys on disk outlive the process and end up in backups and artifacts: never commit them, and prefer `serve --ca`, which hands keys to proxies over SDS and never writes them.',
  },
  {
    code: 'SMI6010',
    name: 'identity-shadows-host',
    level: 'error',
    message: '{kind} {field}: identity {principal} has the form of a Kubernetes host name ({label} as its label {position}); a certificate for it would impersonate {what}',
    explanation:
      'Workload certificates carry the identity `<serviceaccount>.<namespace>.<trustDomain>` as their CN and a DNS SAN (as OSM\'s do), so an identity must never be a name clients verify as a host. In Kubernetes DNS `<svc>.<ns>.svc.<zone>` names a Service and `<ip>.<ns>.pod.<zone>` a Pod: a ServiceAccount `smi-compile.smi-system` in namespace `svc` would get a certificate for `smi-compile.smi-system.svc.cluster.local`, the name Envoy pins for the xDS server. Such identities (a `svc` or `pod` label at the third position or later) are refused, here and by the CA (`ca issue --identity`, SDS). Rename the ServiceAccount or the namespace.',
  },
  {
    code: 'SMI6013',
    name: 'cert-file-write-failed',
    level: 'error',
    message: 'cannot write {path}: {detail}',
    explanation:
      'A certificate or private key file (`ca init`, `ca rotate`, `ca issue`) could not be created. Keys are created exclusively under a random temporary name at mode 0600 and renamed into place, so a failure leaves the previous file as it was. Check the directory\'s permissions and free space.',
  },
] as const satisfies readonly CatalogueEntry[];

/** One entry, as the type checker knows it. */
export type KnownEntry = (typeof ENTRIES)[number];

export const CATALOGUE: readonly CatalogueEntry[] = ENTRIES;
