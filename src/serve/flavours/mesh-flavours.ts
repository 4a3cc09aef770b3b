/**
 * The flavours this server serves, as the stream core asks for them (flavour.ts): the sidecar
 * and the proxyless views of views.ts, with the CA's secrets when there is one.
 */
import type { Flavours } from '../xds/flavour.ts';
import type { ResourceInterner } from '../snapshot/interner.ts';
import type { SecretSource } from '../security/secrets.ts';
import { flavourOfNode, looksProxyless, viewFor } from './views.ts';

/** `secrets` is asked for each new view: with a CA it is there once the CA has loaded. */
export function meshFlavours(interner: ResourceInterner, secrets: () => SecretSource | undefined = () => undefined): Flavours {
  return {
    ofNode: flavourOfNode,
    looksProxyless,
    view: (flavour, snapshot, proxy) => viewFor(flavour, snapshot, proxy, interner, secrets()),
  };
}
