/**
 * Misbehaving ADS clients for the server hardening tests: one that sends bytes that are not a
 * DiscoveryRequest, and helpers to read the server's own view (metrics, open streams).
 */
import { credentials, makeGenericClientConstructor, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { SOTW_METHOD_PATH } from '../../src/serve/xds/ads-service.ts';
import type { ServerHandle } from '../../src/serve/index.ts';

const passthrough = (b: Buffer): Buffer => b;

/** A StreamAggregatedResources client that writes raw bytes as messages. */
const RawBytesClient = makeGenericClientConstructor(
  {
    StreamAggregatedResources: {
      path: SOTW_METHOD_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: passthrough,
      requestDeserialize: passthrough,
      responseSerialize: passthrough,
      responseDeserialize: passthrough,
    },
  } as unknown as ServiceDefinition,
  'RawBytes',
);

/** Sends `messages` as they are and resolves with the status the server ends the stream with. */
export function sendRawBytes(target: string, messages: Buffer[], timeoutMs = 5000): Promise<ServiceError | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const client = new RawBytesClient(target, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }) as any;
  const call = client.StreamAggregatedResources();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      call.cancel();
      client.close();
      resolve(undefined);
    }, timeoutMs);
    call.on('data', () => {});
    call.on('error', (e: ServiceError) => {
      clearTimeout(timer);
      client.close();
      resolve(e);
    });
    for (const m of messages) call.write(m);
  });
}

/** The value of a counter or gauge (summed over label sets matching `labels`). */
export async function metric(handle: ServerHandle, name: keyof ServerHandle['metrics'], labels: Record<string, string> = {}): Promise<number> {
  const m = handle.metrics[name] as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, string> }[] }> };
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
