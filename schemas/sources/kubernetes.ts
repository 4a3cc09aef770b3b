/**
 * Hand-written schemas for the Kubernetes core kinds smi-compile reads. They cover the
 * fields the compiler uses (types checked, required where the API server requires them)
 * and allow every other field, since real manifests carry many we do not model.
 */
import {
  arrayOf, bool, int, obj, oneOfStrings, port, portOrName, str, stringMap, type JsonSchema,
} from './helpers.ts';

const PROTOCOL = oneOfStrings(['TCP', 'UDP', 'SCTP'], 'L4 protocol; TCP when omitted.');

const CONTAINER_PORT = obj(
  {
    name: str('Name other objects (a Service targetPort) can refer to.'),
    containerPort: port(),
    protocol: PROTOCOL,
  },
  { required: ['containerPort'] },
);

const CONTAINER = obj({ name: str(), ports: arrayOf(CONTAINER_PORT) }, { required: ['name'] });

const POD_SPEC = obj(
  {
    serviceAccountName: str('ServiceAccount the pods run as; `default` when omitted.'),
    serviceAccount: str('Deprecated alias of serviceAccountName.'),
    containers: arrayOf(CONTAINER),
    initContainers: arrayOf(CONTAINER),
  },
  { required: ['containers'] },
);

const POD_TEMPLATE = obj({ metadata: obj({ labels: stringMap(), annotations: stringMap() }), spec: POD_SPEC }, {
  required: ['spec'],
});

const LABEL_SELECTOR = obj({
  matchLabels: stringMap(),
  matchExpressions: arrayOf(obj({ key: str(), operator: str(), values: arrayOf(str()) }, { required: ['key', 'operator'] })),
});

/** Deployment, StatefulSet, DaemonSet and ReplicaSet share the part we read. */
const WORKLOAD_SPEC = obj({ selector: LABEL_SELECTOR, template: POD_TEMPLATE }, { required: ['selector', 'template'] });

const OBJECT_REFERENCE = obj({ kind: str(), name: str(), namespace: str(), uid: str() });

const ENDPOINT_PORT = obj({ name: str(), port: port(), protocol: PROTOCOL, appProtocol: str() });

const ENDPOINT_ADDRESS = obj(
  { ip: str(), hostname: str(), nodeName: str(), targetRef: OBJECT_REFERENCE },
  { required: ['ip'] },
);

/** Kind → the properties of its document besides apiVersion/kind/metadata, and what is required. */
export const KUBERNETES_SCHEMAS: Readonly<Record<string, { properties: Record<string, JsonSchema>; required?: string[] }>> = {
  Namespace: { properties: {} },
  ServiceAccount: { properties: {} },
  Service: {
    properties: {
      spec: obj({
        type: str(),
        selector: stringMap('Pods whose labels match all of these back the Service.'),
        clusterIP: str('`None` makes the Service headless.'),
        clusterIPs: arrayOf(str()),
        ports: arrayOf(
          obj(
            {
              name: str('Port name; its prefix (`http-`, `tcp-`, `grpc-`) sets the protocol when appProtocol is absent.'),
              port: port(),
              targetPort: portOrName('Container port number (1-65535) or name; defaults to port.'),
              protocol: PROTOCOL,
              appProtocol: str('Application protocol: http, tcp, grpc or tcp-server-first.'),
              nodePort: int(),
            },
            { required: ['port'] },
          ),
        ),
      }),
    },
  },
  Pod: {
    properties: {
      spec: POD_SPEC,
      status: obj({ podIP: str(), podIPs: arrayOf(obj({ ip: str() }, { required: ['ip'] })) }),
    },
    required: ['spec'],
  },
  Deployment: { properties: { spec: WORKLOAD_SPEC }, required: ['spec'] },
  StatefulSet: { properties: { spec: WORKLOAD_SPEC }, required: ['spec'] },
  DaemonSet: { properties: { spec: WORKLOAD_SPEC }, required: ['spec'] },
  ReplicaSet: { properties: { spec: WORKLOAD_SPEC }, required: ['spec'] },
  Endpoints: {
    properties: {
      subsets: arrayOf(
        obj({
          addresses: arrayOf(ENDPOINT_ADDRESS),
          notReadyAddresses: arrayOf(ENDPOINT_ADDRESS),
          ports: arrayOf(obj({ name: str(), port: port(), protocol: PROTOCOL, appProtocol: str() }, { required: ['port'] })),
        }),
      ),
    },
  },
  EndpointSlice: {
    properties: {
      addressType: oneOfStrings(['IPv4', 'IPv6', 'FQDN']),
      endpoints: arrayOf(
        obj(
          {
            addresses: arrayOf(str()),
            conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
            hostname: str(),
            nodeName: str(),
            targetRef: OBJECT_REFERENCE,
          },
          { required: ['addresses'] },
        ),
      ),
      ports: arrayOf(ENDPOINT_PORT),
    },
    required: ['addressType', 'endpoints'],
  },
};
