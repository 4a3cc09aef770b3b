/**
 * What one ADS client may cost the server. Each bound is far above what Envoy or a gRPC
 * client sends, and low enough that a broken or hostile client cannot take memory, log
 * volume or bandwidth from the proxies sharing the server. docs/limits.md lists them.
 */

/**
 * Largest DiscoveryRequest accepted (gRPC `max_receive_message_length`); bigger ones end the
 * stream with RESOURCE_EXHAUSTED before they are decoded. Requests carry names and versions:
 * an EDS subscription to 10,000 clusters is about 0.5 MB, a delta reconnect declaring 10,000
 * resource versions about 1 MB. 4 MiB is also gRPC's own default, so nothing that works
 * against another control plane fails here. Responses (snapshots) are not limited.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * Distinct type URLs one stream may ask for. We serve five; Envoy knows about a dozen (RTDS,
 * ECDS, VHDS, ...) and gets an empty answer for those. Past this, a client is inventing type
 * URLs, each of which would cost per-stream state and a response.
 */
export const MAX_TYPES_PER_STREAM = 16;

/**
 * Resource names one stream may subscribe to per type. A proxy names at most what its mesh
 * has (an EDS subscription per cluster: thousands in a large mesh). Without a bound, a 4 MiB
 * request of one-letter names would be a million-entry set, and delta subscriptions add up
 * across requests.
 */
export const MAX_NAMES_PER_TYPE = 100_000;

/** A node id is `<namespace>/<workload>`: Kubernetes caps those names at 63 and 253 characters. */
export const MAX_NODE_ID_LENGTH = 63 + 1 + 253;

/** Client-supplied text (node ids, NACK messages) echoed in logs and statuses is cut to this. */
export const MAX_ECHOED_CHARS = 1024;

/**
 * A stream whose gRPC write buffer is full (16 responses, grpc-js's object-mode high-water
 * mark: `call.write` returns false) gets nothing more until it drains. With one response in
 * flight per type this is only reached by a client that acknowledges without reading; what it
 * is sent after draining is the latest state, not a backlog of old snapshots.
 */

/** `text`, cut to `max` characters with a marker saying how much was cut. */
export function clip(text: string, max = MAX_ECHOED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
