/** Types of scripts/bundle.mjs (plain JavaScript: the container image runs it before any TypeScript tooling). */
export function bundle(options: {
  entry: string | { contents: string };
  outfile: string;
  onSource?: (path: string, bytes: Uint8Array) => void;
  sourcemap?: boolean | 'linked' | 'inline' | 'external';
}): Promise<string>;
export function bundleCli(outfile?: string): Promise<string>;
