/**
 * The sidecar flags `inject` and `serve --inject-webhook` share (commander only: main.ts loads this
 * for every command, the CA code only when a command runs).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_ENVOY_IMAGE, DEFAULT_INIT_IMAGE, DEFAULT_XDS_SERVICE } from '../inject/constants.ts';

export { DEFAULT_XDS_SERVICE };

/** `cpu=100m,memory=128Mi` → `{ cpu: '100m', memory: '128Mi' }` */
export function parseQuantities(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9.\-/]*)=([0-9.]+[a-zA-Z]*)$/.exec(item);
    if (!m) throw new InvalidArgumentError(`'${item}' is not RESOURCE=QUANTITY (cpu=100m,memory=128Mi)`);
    out[m[1]] = m[2];
  }
  return out;
}

/** Adds the sidecar's flags (image, resources, log level) to a command. */
export function addInjectFlags(cmd: Command): Command {
  return cmd
    .option('--envoy-image <image>', 'image of the injected Envoy sidecar', DEFAULT_ENVOY_IMAGE)
    .option('--init-image <image>', 'image of the osm-init container (needs sh and iptables-restore)', DEFAULT_INIT_IMAGE)
    .option('--envoy-requests <list>', 'resources.requests of the sidecar, e.g. cpu=100m,memory=128Mi', parseQuantities)
    .option('--envoy-limits <list>', 'resources.limits of the sidecar, e.g. memory=512Mi', parseQuantities)
    .addOption(new Option('--envoy-log-level <level>', "the sidecar's --log-level").choices(['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off']).default('error'));
}

