/**
 * Who a stream is: the first request's `node.id` must be `<namespace>/<workload>` of a workload
 * in the snapshot, or the stream is refused with a status that says why.
 */
import { status } from '@grpc/grpc-js';
import { clip, MAX_NODE_ID_LENGTH } from '../ops/limits.ts';
import type { ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import { StreamClosed } from './stream-closed.ts';

const NODE_ID = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/** The proxy `id` names in `snapshot`; throws StreamClosed when there is none. */
export function proxyOfNode(id: string, snapshot: Snapshot | undefined): ProxySnapshot {
  if (!id) {
    throw new StreamClosed(status.INVALID_ARGUMENT, 'the first request of a stream must carry node.id = "<namespace>/<workload>"', 'no-node');
  }
  if (id.length > MAX_NODE_ID_LENGTH || !NODE_ID.test(id)) {
    throw new StreamClosed(status.INVALID_ARGUMENT, `node.id "${clip(id, 100)}" is not "<namespace>/<workload>"`, 'bad-node-id');
  }
  if (!snapshot) throw new StreamClosed(status.UNAVAILABLE, 'no configuration has compiled yet; retry later', 'no-snapshot');
  const proxy = snapshot.proxies.get(id);
  if (!proxy) throw new StreamClosed(status.NOT_FOUND, unknownWorkload(id, snapshot), 'unknown-workload');
  return proxy;
}

/** "no workload ns/x in the compiled manifests; workloads in ns: a, b, c". */
function unknownWorkload(id: string, snapshot: Snapshot): string {
  const ns = id.split('/')[0];
  const same = [...snapshot.proxies.keys()].filter((k) => k.startsWith(`${ns}/`)).sort();
  const hint = same.length > 0 ? `workloads in namespace ${ns}: ${same.slice(0, 10).join(', ')}${same.length > 10 ? ', ...' : ''}` : `no workload in namespace ${ns}`;
  return `no workload ${id} in the compiled manifests (${hint}); node.id must be "<namespace>/<workload>" of a Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod`;
}
