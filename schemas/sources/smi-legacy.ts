/**
 * SMI versions that were published but that the smi-sdk-go CRDs in `schemas/crds/smi` no
 * longer carry a schema for. Written by hand, in the CRDs' own openAPIV3Schema form, from the
 * Go types of smi-sdk-go (pkg/apis/specs/v1alpha{1,2,3}/tcp_route.go and
 * pkg/apis/split/v1alpha1/traffic_split.go), so that the generator treats them exactly like
 * the vendored ones (structural: unknown fields are errors).
 */
import type { JsonSchema } from './helpers.ts';

/** `status` exists on these old types but the server fills it; accept any object. */
const STATUS: JsonSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

/** TCPRoute v1alpha1 and v1alpha2 had no spec: the object itself named "all TCP traffic". */
const TCP_ROUTE_NO_SPEC: JsonSchema = { type: 'object', properties: { status: STATUS } };

/** TCPRoute v1alpha3 introduced an empty `spec` (ports arrived in v1alpha4). */
const TCP_ROUTE_V1ALPHA3: JsonSchema = {
  type: 'object',
  properties: { spec: { type: 'object', properties: {} } },
};

/**
 * TrafficSplit v1alpha1: weights were `resource.Quantity` values, so `500m`, `1` and `100`
 * (integers or strings) are all valid; the IR normalises them to milli-units.
 */
const TRAFFIC_SPLIT_V1ALPHA1: JsonSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      // The Go type marks both omitempty, but the SMI spec defines a split by them, as the
      // later CRDs do.
      required: ['service', 'backends'],
      properties: {
        service: { description: 'The apex service of this split.', type: 'string' },
        backends: {
          description: 'The backend services of this split.',
          type: 'array',
          items: {
            type: 'object',
            required: ['service', 'weight'],
            properties: {
              service: { description: 'Name of the Kubernetes service.', type: 'string' },
              weight: {
                description: 'Traffic weight, a Kubernetes quantity such as 500m or 1.',
                // resource.Quantity unmarshals from a JSON number or string.
                type: ['number', 'string'],
                // The decimal forms of resource.Quantity (no binary suffixes: a weight of
                // "1Ki" is meaningless).
                pattern: '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$',
              },
            },
          },
        },
      },
    },
    status: STATUS,
  },
};

/** Kind → version → openAPIV3Schema, for versions missing from the vendored CRDs. */
export const SMI_LEGACY_SCHEMAS: Readonly<Record<string, Readonly<Record<string, JsonSchema>>>> = {
  TCPRoute: { v1alpha1: TCP_ROUTE_NO_SPEC, v1alpha2: TCP_ROUTE_NO_SPEC, v1alpha3: TCP_ROUTE_V1ALPHA3 },
  TrafficSplit: { v1alpha1: TRAFFIC_SPLIT_V1ALPHA1 },
};
