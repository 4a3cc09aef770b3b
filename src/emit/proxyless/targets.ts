/**
 * The names gRPC chooses: a client asks for the Listener `<host>:<port>` it dials, a server for
 * the one its bootstrap's template makes of the address it binds. These are the only names the
 * proxyless flavour reads, and they are the clients' spelling, not emit's: emit's own names are
 * never parsed back.
 */
import { GRPC_SERVER_LISTENER_PREFIX } from '../names.ts';

export interface ApiListenerTarget {
  readonly name: string;
  /** As the client wrote it: `<svc>.<ns>.svc.cluster.local`, or any host name of the service. */
  readonly host: string;
  readonly port: number;
}

export interface ServerListenerTarget {
  readonly name: string;
  /** As the server binds it, without brackets: `0.0.0.0`, `::`, `10.1.2.3`. */
  readonly host: string;
  readonly port: number;
}

function validPort(digits: string): number | undefined {
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** `<host>:<port>`, the name gRPC clients give the Listener they want; undefined for any other name. */
export function parseApiListenerName(name: string): ApiListenerTarget | undefined {
  const m = /^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):(\d{1,5})$/.exec(name);
  const port = m ? validPort(m[3]) : undefined;
  return m && port !== undefined ? { name, host: m[1], port } : undefined;
}

/** `grpc/server?xds.resource.listening_address=<ip>:<port>`; undefined for any other name. */
export function parseServerListenerName(name: string): ServerListenerTarget | undefined {
  if (!name.startsWith(GRPC_SERVER_LISTENER_PREFIX)) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(name.slice(GRPC_SERVER_LISTENER_PREFIX.length));
  const port = m ? validPort(m[3]) : undefined;
  return m && port !== undefined ? { name, host: m[1] ?? m[2], port } : undefined;
}
