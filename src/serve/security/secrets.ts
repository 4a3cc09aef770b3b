/**
 * SDS: the secrets a sidecar's TLS contexts name, with the key material filled in.
 *
 * The compiler emits every secret by name only (policy, reviewable in goldens, never a key):
 * `service-cert:<ns>/<sa>`, `root-cert-for-mtls-inbound:<ns>/<sa>` and, per upstream service,
 * `root-cert-for-mtls-outbound:<ns>/<svc>` with the upstream identities it must present. With a
 * CA, the server serves them filled in:
 *
 * - `service-cert:<ns>/<sa>`: `tls_certificate` (chain and private key) of the proxy's own
 *   identity, and only its own: a proxy asking for another identity's certificate is told it
 *   does not exist, whatever name it asks for;
 * - the root secrets: their validation context plus `trusted_ca`, the CA's trust bundle (two
 *   roots during a root rotation). The outbound ones keep their SAN matchers.
 *
 * Filled secrets live outside the snapshot (they change on their own schedule: renewals, root
 * rotations), encoded once per certificate or bundle and shared by every stream that needs them.
 * Their `json` is redacted: /debug and logs never see a private key.
 */
import { sha256Hex } from '../../shared/hash.ts';
import { encodeProtoJsonAny } from '../../envoy/protos.ts';
import type { EnvoyResource } from '../../emit/types.ts';
import type { CertificateManager } from '../../identity/certificate-manager.ts';
import { principalName, serviceCertName, type WorkloadIdentity } from '../../identity/identity.ts';
import { isRootCertSecret, withTrustBundle } from '../../identity/trust-bundle.ts';
import { secretKindOf } from '../../ir/names.ts';
import type { EncodedResource, ProxySnapshot } from '../snapshot/snapshot-types.ts';
import { SDS } from '../xds/type-urls.ts';
import { resourceVersion } from '../../emit/versions.ts';

/** The gRPC certificate-provider instance proxyless resources name; the gRPC bootstrap declares it. */
export const CERTIFICATE_PROVIDER_INSTANCE = 'mesh';

/** What a stream's view asks about secrets; present only when the server has a CA. */
export interface SecretSource {
  /** The secret as `proxy` is served it; undefined when it may not have it or it is not issued yet. */
  resolve(proxy: ProxySnapshot, emitted: EncodedResource): EncodedResource | undefined;
  /** Name of the certificate-provider instance in proxyless clusters and server listeners. */
  readonly certificateProviderInstance: string;
}

/** The workload identity of a proxy, when the compile knew it. */
export function proxyIdentity(proxy: ProxySnapshot): WorkloadIdentity | undefined {
  return proxy.identity ? { namespace: proxy.namespace, serviceAccount: proxy.identity.serviceAccount, trustDomain: proxy.identity.trustDomain } : undefined;
}

function encoded(json: EnvoyResource, shown: EnvoyResource): EncodedResource {
  const any = encodeProtoJsonAny(SDS, json);
  return { name: String(json.name), typeUrl: SDS, version: resourceVersion(SDS, json), any, json: shown };
}

export class SdsSecrets implements SecretSource {
  readonly certificateProviderInstance = CERTIFICATE_PROVIDER_INSTANCE;
  /** principal → the filled service-cert, for the certificate with that serial. */
  private readonly certs = new Map<string, { serial: string; resource: EncodedResource }>();
  /** Emitted root secret → filled, for the bundle with that hash. */
  private readonly roots = new WeakMap<EncodedResource, { bundle: string; resource: EncodedResource }>();
  private bundle = { pem: '', hash: '' };

  constructor(private readonly manager: CertificateManager) {}

  private trustBundle(): { pem: string; hash: string } {
    const pem = this.manager.trustBundle().pem;
    if (pem !== this.bundle.pem) this.bundle = { pem, hash: sha256Hex(pem) };
    return this.bundle;
  }

  resolve(proxy: ProxySnapshot, emitted: EncodedResource): EncodedResource | undefined {
    const name = emitted.name;
    if (secretKindOf(name) === 'service-cert') return this.serviceCert(proxy, name);
    if (isRootCertSecret(name)) return this.rootCert(emitted);
    return emitted;
  }

  private serviceCert(proxy: ProxySnapshot, name: string): EncodedResource | undefined {
    const identity = proxyIdentity(proxy);
    // The proxy's own identity only, whatever the snapshot or the request says.
    if (!identity || name !== serviceCertName(identity)) return undefined;
    const key = principalName(identity);
    const cert = this.manager.current(identity);
    if (!cert) {
      this.certs.delete(key); // expired or never issued: keep no key material around for it
      return undefined; // being issued; the stream is re-evaluated when it is
    }
    const hit = this.certs.get(key);
    if (hit?.serial === cert.serialNumber) return hit.resource;
    const secret = (privateKey: string): EnvoyResource => ({
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
      name,
      tls_certificate: { certificate_chain: { inline_string: cert.chainPem }, private_key: { inline_string: privateKey } },
    });
    const resource = encoded(secret(cert.privateKeyPem), secret('[redacted]'));
    this.certs.set(key, { serial: cert.serialNumber, resource });
    return resource;
  }

  private rootCert(emitted: EncodedResource): EncodedResource {
    const bundle = this.trustBundle();
    const hit = this.roots.get(emitted);
    if (hit?.bundle === bundle.hash) return hit.resource;
    const json = withTrustBundle(emitted.json, bundle.pem);
    const resource = encoded(json, json);
    this.roots.set(emitted, { bundle: bundle.hash, resource });
    return resource;
  }
}
