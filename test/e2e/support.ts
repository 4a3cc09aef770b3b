/**
 * Shared pieces of the end-to-end tests: backend gRPC servers that say who they are, a gRPC
 * client that calls through `xds:///`, a bootstrap for grpc-js-xds, and timing helpers. Every
 * test binds to 127.0.0.1 on ephemeral ports and stops what it starts.
 */
import * as grpc from '@grpc/grpc-js';

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};

/** helloworld.Greeter with two methods; messages are JSON (gRPC does not care what the bytes are). */
const GREETER: grpc.ServiceDefinition = {
  SayHello: { path: '/helloworld.Greeter/SayHello', requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize },
  SayBye: { path: '/helloworld.Greeter/SayBye', requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize },
};

export interface Backend {
  readonly name: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A greeter server on 127.0.0.1 that answers every call with `{ from: name }`. */
export async function startBackend(name: string): Promise<Backend> {
  const server = new grpc.Server();
  const answer: grpc.handleUnaryCall<unknown, unknown> = (_call, cb) => cb(null, { from: name });
  server.addService(GREETER, { SayHello: answer, SayBye: answer });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    name,
    port,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

export interface CallResult {
  readonly at: number;
  readonly from?: string;
  readonly error?: grpc.ServiceError;
}

export class GreeterClient {
  private readonly client: grpc.Client;
  constructor(target: string) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure());
  }
  /** `waitForReady` queues the call until the channel is ready instead of failing fast (the first call, while xDS resolves). */
  call(method: 'SayHello' | 'SayBye', options: { waitForReady?: boolean } = {}): Promise<CallResult> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        `/helloworld.Greeter/${method}`,
        json.serialize,
        json.deserialize,
        { name: 'e2e' },
        new grpc.Metadata({ waitForReady: options.waitForReady ?? false }),
        { deadline: Date.now() + 3000 },
        (error, value) => resolve(error ? { at: performance.now(), error } : { at: performance.now(), from: (value as { from: string }).from }),
      );
    });
  }
  /** `n` calls, `concurrency` at a time. */
  async many(n: number, concurrency = 4, method: 'SayHello' | 'SayBye' = 'SayHello'): Promise<CallResult[]> {
    const out: CallResult[] = [];
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (issued < n) {
        issued += 1;
        out.push(await this.call(method));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return out;
  }
  close(): void {
    this.client.close();
  }
}

/** Share of calls answered by `name`, in percent. */
export function sharePercent(results: readonly CallResult[], name: string): number {
  return (100 * results.filter((r) => r.from === name).length) / results.length;
}

/** A grpc-js-xds bootstrap pointing at the server under test, for GRPC_XDS_BOOTSTRAP_CONFIG. */
export function bootstrap(xdsPort: number, nodeId: string): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, cluster: nodeId, locality: {} },
  });
}

/** Rejects after `ms`, so a hung test fails instead of hanging CI. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * Exits the process shortly after the suite, whatever timers the gRPC xDS client keeps
 * (its ADS stream retries with backoff once the server is gone). The timer is unref'd: it
 * fires only if something else still keeps the process alive.
 */
export function exitWhenDone(): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
}
