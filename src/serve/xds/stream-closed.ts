import type { status } from '@grpc/grpc-js';

/** Ends a stream with a gRPC status the client can read; `reason` labels the rejected-streams metric. */
export class StreamClosed extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}
