/**
 * What the injection flags of `inject` and `serve --inject-webhook` make: both build their
 * InjectOptions here, so the same flags give the same pod.
 */
import type { InjectOptions } from '../inject/inject.ts';
import { loadTrustBundle, type CaProviderKind } from './ca-command.ts';

export interface InjectFlags {
  envoyImage: string;
  initImage: string;
  envoyRequests?: Record<string, string>;
  envoyLimits?: Record<string, string>;
  envoyLogLevel: string;
  meshName: string;
  trustDomain?: string;
  ca?: string;
  caProvider: CaProviderKind;
}

export function injectOptionsFrom(flags: InjectFlags, xds: { address: string; port: number }): InjectOptions {
  const resources = {
    ...(flags.envoyRequests ? { requests: flags.envoyRequests } : {}),
    ...(flags.envoyLimits ? { limits: flags.envoyLimits } : {}),
  };
  return {
    envoyImage: flags.envoyImage,
    initImage: flags.initImage,
    ...(Object.keys(resources).length ? { envoyResources: resources } : {}),
    envoyLogLevel: flags.envoyLogLevel,
    xdsAddress: xds.address,
    xdsPort: xds.port,
    trustDomain: flags.trustDomain ?? 'cluster.local',
    ...(flags.ca ? { trustBundle: loadTrustBundle(flags.caProvider, flags.ca).pem } : {}),
    meshName: flags.meshName,
  };
}
