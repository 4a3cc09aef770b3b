/**
 * Workload identity and certificates: who a proxy is, and the certificates that prove it.
 * See docs/certificates.md.
 */
export { BuiltinCa, BUILTIN_CA_FILES, CaExistsError, type BuiltinCaOptions } from './builtin-ca.ts';
export { CertificateManager, DEFAULT_LIFETIME_MS, DEFAULT_RENEW_FRACTION, renewalTime, type CertificateEvent, type CertificateManagerOptions } from './certificate-manager.ts';
export { FakeClock, systemClock, type Clock } from './clock.ts';
export { FileProvider, FILE_PROVIDER_FILES, type FileProviderOptions } from './file-provider.ts';
export { CONTROL_PLANE_ACCOUNT, parseIdentityArg, parseSpiffeId, principalName, sameIdentity, serviceCertName, spiffeId, type WorkloadIdentity } from './identity.ts';
export { CertificateError, type CertificateProvider, type IdentityLog, type IssuedCertificate, type IssueRequest, type TrustBundle } from './provider.ts';
