/**
 * The `smi-compile` command line. Exit codes: 0 success, 1 diagnostics at or above the failure
 * level (or a golden mismatch), 2 usage error. Nothing else, whatever happens inside.
 */
import { readFileSync } from 'node:fs';
// Each command's module is loaded when that command runs: `lint` need not load the xDS server
// (grpc-js) nor `compile` the CA (@peculiar/x509), a few hundred ms of a short run.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readStdinBounded } from '../parser/read-bytes.ts';
import { mistypedCommand } from './command-typo.ts';
import { addInjectFlags, DEFAULT_XDS_SERVICE } from './inject-flags.ts';
import { parseDuration } from './duration.ts';
import { parseByteSize } from './size.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliIO } from './io.ts';
import { timedImport } from './profile.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

export function defaultIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdin: readStdinBounded,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
  };
}

/** The command line as given (commander keeps it, untyped): `diff` needs to see where `--` was. */
function rawArgsOf(cmd: Command): readonly string[] {
  return (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
}

/** Builds the program; `setExit` receives each command's exit code. */
function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('smi-compile')
    .description('Compile SMI policies and Kubernetes manifests into Envoy v3 configuration, lint them, and serve them over xDS.')
    .version(VERSION)
    .option('--debug', 'print stack traces of internal errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('compile', { isDefault: true })
    .description('compile manifests into one Envoy config tree per workload: OUT/<namespace>/<workload>/*.yaml')
    .argument('<paths...>', 'files, directories (recursive) or - for stdin')
    .option('-o, --output <dir>', 'write the tree here, replaced atomically: a new or empty directory, or one smi-compile wrote (its manifest .smi-compile.sha256 proves it); anything else is refused')
    .addOption(new Option('--format <format>', "output format (config-dump: the yaml files and config_dump.json, Envoy's admin /config_dump of each workload)").choices(['yaml', 'json', 'config-dump']).default('yaml'))
    .option('--check <golden-dir>', 'compare with a golden tree (it must exist); print a unified diff and exit 1 on any difference')
    .option('--update', 'with --check: rewrite the golden tree to match, or create it; refused, like -o, for a directory smi-compile did not write')
    .option('--trust-domain <domain>', 'trust domain of identities (default: MeshConfig, else cluster.local)')
    .option('--xds-address <address>', 'xDS server address written into bootstrap.yaml', '127.0.0.1')
    .option('--xds-port <port>', 'xDS server port written into bootstrap.yaml', port, 15128)
    .option('-v, --verbose', 'also print info-level diagnostics')
    .option('--max-file-size <size>', 'largest input file read (default 16MiB; docs/limits.md)', parseByteSize)
    .option('--ca <dir>', 'certificate authority: put its trust bundle into the root-cert secrets (public; only its certificates are read, not its key)')
    .addOption(new Option('--ca-provider <kind>', 'builtin (ca init) or file (tls.crt, tls.key, ca.crt)').choices(['builtin', 'file']).default('builtin'))
    .option('--emit-secrets', 'with --ca: also issue each workload a certificate and write its private key (tls.key, mode 0600) beside its config')
    .addOption(new Option('--cert-lifetime <duration>', 'with --emit-secrets: certificate lifetime (e.g. 6h, 90m)').argParser(parseDuration).default(24 * 3_600_000, '24h'))
    .option('--verify-envoy', 'run the real Envoy (--mode validate) on every workload\'s static bootstrap; each rejection is an SMI7001 (Envoy: ENVOY_BIN, PATH, or .venv/)')
    .option('--static', 'also write bootstrap-static.yaml per workload: everything inline, no control plane (with --ca --emit-secrets, loadable as is)')
    .addHelpText(
      'after',
      `
Examples:
  $ smi-compile fixtures/bookstore -o out
  $ smi-compile ./manifests --check golden/        # CI: fail on any config change
  $ smi-compile ./manifests --verify-envoy         # CI: and Envoy itself loads every workload's config
  $ smi-compile ./manifests --check golden/ --update
  $ kubectl get svc,deploy,sa,trafficsplits -A -o yaml | smi-compile - -o out`,
    )
    .action(async (paths: string[], opts) => setExit(await (await timedImport(() => import('./compile-command.ts'))).runCompile(paths, opts, io)));

  program
    .command('lint')
    .description('report policy mistakes with file:line:col, like istioctl analyze; writes nothing')
    .argument('<paths...>', 'files, directories (recursive) or - for stdin')
    .addOption(new Option('--output <format>', 'report format').choices(['text', 'json', 'sarif', 'github']).default('text'))
    .addOption(new Option('--fail-on <level>', 'exit 1 when a diagnostic is at or above this level').choices(['error', 'warning', 'info']).default('error'))
    .option('--max-file-size <size>', 'largest input file read (default 16MiB; docs/limits.md)', parseByteSize)
    .option('--suppress <rule>', 'hide a code everywhere (CODE) or on one resource (CODE=Kind/ns/name); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--trust-domain <domain>', 'trust domain of identities (default: MeshConfig, else cluster.local)')
    .addHelpText(
      'after',
      `
Resources can silence codes themselves with the annotation smi-compile.io/suppress: "SMI3007,SMI2007".

Examples:
  $ smi-compile lint ./manifests
  $ smi-compile lint ./manifests --output github --fail-on warning    # GitHub Actions annotations
  $ smi-compile lint ./manifests --output sarif > smi.sarif           # GitHub code scanning
  $ smi-compile lint ./manifests --suppress SMI3007 --suppress SMI2007=Service/legacy/billing`,
    )
    .action(async (paths: string[], opts) => setExit((await timedImport(() => import('./lint-command.ts'))).runLint(paths, opts, io)));

  addInjectFlags(
    program
      .command('inject')
      .description('add the Envoy sidecar and its init container to the pods of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and Pods, like istioctl kube-inject (docs/injection.md)')
      .requiredOption('-f, --filename <file>', 'the YAML to read, or - for stdin')
      .option('-o, --output <file>', 'write here instead of stdout (replaced atomically)')
      .option('--xds-address <address>', 'the control plane as the pods reach it, written into the bootstrap', DEFAULT_XDS_SERVICE.address)
      .option('--xds-port <port>', 'its xDS port', port, DEFAULT_XDS_SERVICE.port)
      .option('--ca <dir>', "mTLS to the control plane: the bootstrap trusts this CA's bundle and the sidecar mounts its certificate from the Secret envoy-xds-cert-<serviceaccount>")
      .addOption(new Option('--ca-provider <kind>', 'builtin (ca init) or file (tls.crt, tls.key, ca.crt)').choices(['builtin', 'file']).default('builtin'))
      .option('--trust-domain <domain>', 'trust domain of identities', 'cluster.local')
      .option('--mesh-name <name>', 'a Namespace in the input labelled openservicemesh.io/monitor=<name> is in the mesh; one labelled otherwise is left alone', 'osm')
      .option('-v, --verbose', 'also say which workloads were left alone and why (SMI8011)')
      .option('--max-file-size <size>', 'largest input read (default 16MiB; docs/limits.md)', parseByteSize),
  )
    .addHelpText(
      'after',
      `
Documents of other kinds, and workloads left alone, are written back byte for byte.

Examples:
  $ smi-compile inject -f deploy.yaml | kubectl apply -f -
  $ kubectl get deploy bookstore -o yaml | smi-compile inject -f - --ca ./ca -o bookstore-injected.yaml`,
    )
    .action(async (opts) => setExit((await timedImport(() => import('./inject-command.ts'))).runInject(opts, io)));

  const serve = program
    .command('serve')
    .description('serve the compiled config over xDS (ADS, state of the world and delta) to Envoy sidecars and proxyless gRPC clients')
    .argument('[paths...]', 'files or directories (recursive) holding the manifests (optional with --kubernetes)')
    .option('--address <address>', 'address the xDS port listens on', '127.0.0.1')
    .option('--port <port>', 'xDS (gRPC) port; 0 picks a free one', port, 15128)
    .option('--admin-address <address>', 'address the admin port listens on (independent of --address; 0.0.0.0 for kubelet probes and Prometheus in a cluster)', '127.0.0.1')
    .option('--admin-port <port>', 'HTTP port for /healthz, /readyz, /metrics (default: xDS port + 1)', port)
    .option('--debug-endpoints', 'serve /debug/snapshot, /debug/streams, /debug/config on the admin port: every proxy\'s configuration, unauthenticated')
    .option('--watch', 'recompile when the manifests change and push what changed')
    .option('--kubernetes', 'also read the cluster live from the Kubernetes API (in-cluster service account, --kubeconfig or KUBECONFIG)')
    .option('--kubeconfig <file>', 'with --kubernetes: the kubeconfig to use')
    .option('--mesh-name <name>', 'with --kubernetes: namespaces labelled openservicemesh.io/monitor=<name> are in the mesh', 'osm')
    .option('--osm-namespace <namespace>', "with --kubernetes: the namespace of OSM's MeshConfig", 'osm-system')
    .option('--max-file-size <size>', 'largest input file read (default 16MiB; docs/limits.md)', parseByteSize)
    .option('--debounce <ms>', 'with --watch: wait this long after the last change', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of milliseconds');
      return n;
    }, 25)
    .option('--trust-domain <domain>', 'trust domain of identities (default: MeshConfig, else cluster.local)')
    .option('--ca <dir>', 'certificate authority: serve certificates over SDS and accept only mTLS xDS clients with a mesh certificate')
    .addOption(new Option('--ca-provider <kind>', 'builtin: a root from `ca init`; file: an operator\'s CA (tls.crt, tls.key, ca.crt), reloaded on change').choices(['builtin', 'file']).default('builtin'))
    .addOption(new Option('--cert-lifetime <duration>', 'lifetime of workload certificates, renewed at 2/3 of it (e.g. 6h, 90m)').argParser(parseDuration).default(24 * 3_600_000, '24h'))
    .option('--no-sidecar-certs', 'with --kubernetes and --ca: do not keep the Secrets envoy-xds-cert-<serviceaccount> injected sidecars mount (you provision them; docs/injection.md)')
    .option('--compile-worker', 'compile in a worker thread: xDS traffic never waits for a compile, at the cost of a second heap (docs/xds-server.md)')
    .option('--compile-worker-idle <ms>', 'with --compile-worker and --watch: retire the worker after this long without a compile', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of milliseconds');
      return n;
    })
    .option('--inject-webhook', 'also serve the sidecar injection webhook (admission.k8s.io/v1, HTTPS; needs --ca; docs/injection.md)')
    .option('--inject-webhook-address <address>', 'address the injection webhook listens on', '127.0.0.1')
    .option('--inject-webhook-port <port>', 'HTTPS port of the injection webhook; 0 picks a free one', port, 15130)
    .option('--inject-webhook-service <name.namespace>', "the webhook's Service (deploy/inject-webhook/): its serving certificate names <name>.<namespace>.svc", 'smi-compile-injector.smi-system')
    .option('--inject-xds-address <address>', `with --inject-webhook: the control plane as injected pods reach it, at --port (default ${DEFAULT_XDS_SERVICE.address})`)
    .addOption(new Option('--log-level <level>', 'least severe log level printed').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .addOption(new Option('--log-format <format>', 'log format (default: json unless stderr is a terminal)').choices(['json', 'text']))
    .addHelpText(
      'after',
      `
Proxies name themselves with node.id = <namespace>/<workload>. See docs/xds-server.md.

Examples:
  $ smi-compile serve ./manifests --watch
  $ smi-compile serve ./manifests --address 0.0.0.0 --port 15128 --admin-address 0.0.0.0 --admin-port 15129
  $ smi-compile serve ./manifests --ca ./ca                       # mTLS xDS, certificates over SDS
  $ smi-compile serve --kubernetes --address 0.0.0.0               # in a cluster: the live API, namespaces labelled openservicemesh.io/monitor=osm
  $ smi-compile serve ./policies --kubernetes --kubeconfig ~/.kube/config   # a policy repository plus live cluster state`,
    )
    .action(async (paths: string[], opts) => setExit(await (await timedImport(() => import('./serve-command.ts'))).runServeCommand(paths, opts)));
  addInjectFlags(serve);

  program
    .command('explain')
    .description('would the sidecars let a workload call a service, and why: the TrafficTarget, route and Envoy resources that decide it')
    .argument('<paths...>', 'files, directories (recursive) or - for stdin')
    .requiredOption('--from <ns/workload>', 'the calling workload')
    .requiredOption('--to <service.ns[:port]>', 'the service called (the port may be left out when it has one)')
    .option('--path <path>', 'request path (HTTP)', '/')
    .option('--method <method>', 'request method (HTTP)', 'GET')
    .option('--header <name=value>', 'request header; repeatable (host= sets the authority)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--trust-domain <domain>', 'trust domain of identities (default: MeshConfig, else cluster.local)')
    .option('--max-file-size <size>', 'largest input file read (default 16MiB; docs/limits.md)', parseByteSize)
    .action(async (paths: string[], opts) => setExit((await timedImport(() => import('./explain-command.ts'))).runExplain(paths, opts, io)));

  program
    .command('diff')
    .description('what a policy change means: access gained and lost, split weights moved, Envoy resources changed per proxy')
    .argument('<paths...>', '<old-paths...> -- <new-paths...>, or <paths...> with --base')
    .option('--base <git-ref>', 'compare the paths with the same paths at this commit')
    .addOption(new Option('--output <format>', 'report format').choices(['markdown', 'json', 'github']).default('markdown'))
    .option('--fail-on-new-access', 'exit 1 when a call becomes allowed that was not before')
    .option('--trust-domain <domain>', 'trust domain of identities (default: MeshConfig, else cluster.local)')
    .option('--max-file-size <size>', 'largest input file read (default 16MiB; docs/limits.md)', parseByteSize)
    .action(async (paths: string[], opts, cmd: Command) => setExit((await timedImport(() => import('./diff-command.ts'))).runDiff(paths, opts, rawArgsOf(cmd), io)));

  program
    .command('graph')
    .description('draw the mesh: workloads and services, the calls each may make (with routes), splits with weights, workloads nothing may call')
    .argument('<paths...>', 'files, directories (recursive) or - for stdin')
    .addOption(new Option('--format <format>', 'output format (svg: laid out by Graphviz in WebAssembly)').choices(['mermaid', 'dot', 'svg', 'json']).default('mermaid'))
    .option('--namespace <ns>', 'only what touches this namespace')
    .option('--trust-domain <domain>', 'trust domain of identities (default: MeshConfig, else cluster.local)')
    .option('--max-file-size <size>', 'largest input file read (default 16MiB; docs/limits.md)', parseByteSize)
    .action(async (paths: string[], opts) => setExit(await (await timedImport(() => import('./graph-command.ts'))).runGraph(paths, opts, io)));

  const ca = program.command('ca').description('the built-in certificate authority: make a root, issue certificates to files, rotate the root (docs/certificates.md)');
  ca.command('init')
    .description('make a root certificate (DIR/ca.crt) and key (DIR/ca.key, mode 0600)')
    .argument('<dir>', 'directory for the CA')
    .option('--force', 'replace an existing CA (every certificate it issued stops being trusted)')
    .option('--root-lifetime <duration>', 'lifetime of the root (default 10 years)', parseDuration)
    .action(async (dir: string, opts) => setExit(await (await timedImport(() => import('./ca-command.ts'))).runCaInit(dir, opts, io)));
  ca.command('issue')
    .description('issue a workload certificate to files: OUT/tls.crt, OUT/tls.key (mode 0600), OUT/ca.crt')
    .argument('<dir>', 'the CA directory')
    .requiredOption('--identity <sa.ns>', 'the workload identity, <serviceaccount>.<namespace>')
    .requiredOption('--out <dir>', 'where to write tls.crt, tls.key and ca.crt')
    .option('--trust-domain <domain>', 'trust domain of the identity', 'cluster.local')
    .option('--lifetime <duration>', 'certificate lifetime', parseDuration, 24 * 3_600_000)
    .addOption(new Option('--ca-provider <kind>', 'builtin (ca init) or file (tls.crt, tls.key, ca.crt)').choices(['builtin', 'file']).default('builtin'))
    .action(async (dir: string, opts) => setExit(await (await timedImport(() => import('./ca-command.ts'))).runCaIssue(dir, opts, io)));
  ca.command('rotate')
    .description('start a root rotation: both roots trusted at once, signing switches after --propagation, the old root retires after --overlap')
    .argument('<dir>', 'the CA directory')
    .option('--propagation <duration>', 'keep signing with the old root this long (default 15m)', parseDuration)
    .option('--overlap <duration>', 'then keep trusting it this long: the longest certificate lifetime (default 24h)', parseDuration)
    .action(async (dir: string, opts) => setExit(await (await timedImport(() => import('./ca-command.ts'))).runCaRotate(dir, opts, io)));

  return program;
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  let code = EXIT_OK;
  const debug = argv.includes('--debug');
  try {
    const program = buildProgram(io, (c) => {
      code = c;
    });
    const typo = mistypedCommand(argv, [...program.commands.map((c) => c.name()), 'help'], io.cwd);
    if (typo) throw new UsageError(typo);
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      io.stderr(`smi-compile: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const detail = err instanceof Error ? err.message : String(err);
    io.stderr(`smi-compile: internal error: ${detail}. This is a bug; please report it${debug ? '' : ' (rerun with --debug for the stack)'}.\n`);
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}
