/**
 * X.509 on @peculiar/x509 over Node's WebCrypto: keys, root and workload certificates, PEM.
 * Node's own `crypto.X509Certificate` parses and checks (what OpenSSL would accept); the
 * library builds, because Node cannot create certificates.
 *
 * Workload keys are ECDSA P-256: small, fast to generate (about a millisecond), and what Envoy,
 * gRPC and every TLS stack accept. A CA key loaded from files may also be P-384 or RSA.
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API
// before the library loads; this import must stay above it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import { sha256Hex } from '../shared/hash.ts';
import { principalName, spiffeId, type WorkloadIdentity } from './identity.ts';
import type { TrustBundle } from './provider.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export type Certificate = x509.X509Certificate;

export const WORKLOAD_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A private key able to sign certificates, with the signature algorithm that goes with it. */
export interface SigningKey {
  readonly key: CryptoKey;
  readonly algorithm: Algorithm | EcdsaParams;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(WORKLOAD_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export function signingKeyOf(keys: CryptoKeyPair): SigningKey {
  return { key: keys.privateKey, algorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
}

/** PKCS#8 PEM (`BEGIN PRIVATE KEY`), what Envoy, gRPC and OpenSSL read. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY')}\n`;
}

const CURVES: Record<string, { curve: string; hash: string }> = {
  prime256v1: { curve: 'P-256', hash: 'SHA-256' },
  secp384r1: { curve: 'P-384', hash: 'SHA-384' },
  secp521r1: { curve: 'P-521', hash: 'SHA-512' },
};

/**
 * A CA's private key from PEM in any form OpenSSL writes (PKCS#8, SEC1 `EC PRIVATE KEY`,
 * PKCS#1 `RSA PRIVATE KEY`): cert-manager and Vault write different ones.
 */
export async function importSigningKey(pem: string): Promise<SigningKey> {
  const keyObject = createPrivateKey(pem);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const c = CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!c) throw new Error(`unsupported EC curve ${keyObject.asymmetricKeyDetails?.namedCurve}`);
    const key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: c.curve }, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash: c.hash } as EcdsaParams };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const key = await subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { key, algorithm: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  throw new Error(`unsupported key type ${keyObject.asymmetricKeyType}`);
}

/** Every certificate in a PEM text, in order; throws on a malformed one. */
export function parseCertificates(pem: string): Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new x509.X509Certificate(b));
}

/** A trust bundle of `roots`: their PEM, and what logs and status pages say of each. */
export function trustBundleOf(roots: readonly Certificate[]): TrustBundle {
  return {
    pem: certificatesPem(roots),
    roots: roots.map((r) => ({ subject: r.subject, fingerprint: fingerprint(r), notAfter: r.notAfter })),
  };
}

export function certificatesPem(certs: readonly Certificate[]): string {
  return certs.map((c) => `${c.toString('pem')}\n`).join('');
}

/** Node's (OpenSSL's) view of a certificate, for checks. */
export function nodeCertificate(cert: Certificate): NodeX509 {
  return new NodeX509(Buffer.from(cert.rawData));
}

/** SHA-256 of the DER, hex: how logs and /debug name a root. */
export function fingerprint(cert: Certificate): string {
  return sha256Hex(new Uint8Array(cert.rawData));
}

/** A CA certificate: basic constraints say CA, and key usage (when present) allows signing certificates. */
export function isCaCertificate(cert: Certificate): boolean {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) return false;
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  return !ku || (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
}

/** True when `keyPem` is the private key of `cert`. */
export function keyMatches(cert: Certificate, keyPem: string): boolean {
  return nodeCertificate(cert).checkPrivateKey(createPrivateKey(keyPem));
}

/** True when `issuer` issued and signed `cert`. */
export function issuedBy(cert: Certificate, issuer: Certificate): boolean {
  const c = nodeCertificate(cert);
  const i = nodeCertificate(issuer);
  return c.checkIssued(i) && c.verify(i.publicKey);
}

export interface RootParams {
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A self-signed root that signs workload certificates directly (path length 0). */
export async function createRoot(p: RootParams): Promise<{ certificate: Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [p.commonName] }, { O: ['smi-compile'] }],
    keys,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    signingAlgorithm: signingKeyOf(keys).algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

export interface LeafParams {
  readonly identity: WorkloadIdentity;
  /** More DNS names or IP addresses (the xDS server's own certificate: the names clients dial). */
  readonly altNames?: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: CryptoKey;
  readonly issuer: { readonly certificate: Certificate; readonly key: SigningKey };
}

/**
 * A workload certificate: CN and DNS SAN `<sa>.<ns>.<trustDomain>` (what OSM-style RBAC and
 * outbound SAN pinning match), URI SAN `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`, for both TLS
 * ends (serverAuth and clientAuth), never a CA.
 */
export async function createLeaf(p: LeafParams): Promise<Certificate> {
  const name = principalName(p.identity);
  const sans: x509.JsonGeneralName[] = [{ type: 'dns', value: name }, { type: 'url', value: spiffeId(p.identity) }];
  for (const alt of p.altNames ?? []) {
    if (alt === name) continue;
    sans.push(isIP(alt) ? { type: 'ip', value: alt } : { type: 'dns', value: alt });
  }
  return x509.X509CertificateGenerator.create({
    subject: [{ CN: [name] }],
    issuer: p.issuer.certificate.subjectName,
    publicKey: p.publicKey,
    signingKey: p.issuer.key.key,
    signingAlgorithm: p.issuer.key.algorithm,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
      await x509.SubjectKeyIdentifierExtension.create(p.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(p.issuer.certificate),
    ],
  });
}

export { x509 };
