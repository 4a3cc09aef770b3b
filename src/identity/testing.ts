/**
 * An operator's PKI in miniature, for tests of the file provider: a root, and an intermediate CA
 * with its key in the PEM form cert-manager writes (SEC1 for ECDSA, PKCS#1 for RSA).
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import { certificatesPem, x509, type Certificate } from './x509.ts';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export interface TestPki {
  readonly root: Certificate;
  readonly rootPem: string;
  readonly intermediate: Certificate;
  readonly intermediatePem: string;
  /** The intermediate's key, SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM. */
  readonly intermediateKeyPem: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };

export async function testPki(opts: { keyType?: 'ec' | 'rsa'; intermediateIsCa?: boolean; name?: string; notAfter?: Date } = {}): Promise<TestPki> {
  const name = opts.name ?? 'Example Corp';
  const rootKeys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name} Root CA`,
    keys: rootKeys,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * 86_400_000),
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const alg = opts.keyType === 'rsa' ? RSA : EC;
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const isCa = opts.intermediateIsCa ?? true;
  const intermediate = await x509.X509CertificateGenerator.create({
    subject: `CN=${name} mesh intermediate`,
    issuer: root.subject,
    publicKey: keys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC,
    notBefore: new Date(now - 3600_000),
    notAfter: opts.notAfter ?? new Date(now + 90 * 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(isCa, isCa ? 0 : undefined, true),
      new x509.KeyUsagesExtension(isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  const keyObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const intermediateKeyPem = keyObject.export({ format: 'pem', type: opts.keyType === 'rsa' ? 'pkcs1' : 'sec1' }).toString();
  return { root, rootPem: certificatesPem([root]), intermediate, intermediatePem: certificatesPem([intermediate]), intermediateKeyPem };
}
