/** Writes src/envoy/envoy-protos.bundle.json: the Envoy protos parsed once (see src/envoy/protos.ts). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUNDLE_FILE, bundleText, loadProtoFiles } from '../src/envoy/protos.ts';

const text = bundleText(loadProtoFiles());
writeFileSync(BUNDLE_FILE, text);
console.log(`wrote ${fileURLToPath(BUNDLE_FILE)} (${text.length} bytes)`);
