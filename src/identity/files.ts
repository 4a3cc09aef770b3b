/**
 * Writing and reading CA and certificate files. Every write goes through `replaceFileAtomic`
 * (src/files/exclusive.ts): a temporary file with an unguessable name, created exclusively at its
 * final mode, then renamed into place. A reader (a proxy's file watcher, a second replica) never
 * sees half a key, and nobody sharing the directory can pre-create the temporary file to read the
 * key through it. A write that fails is SMI6013, not an internal error.
 */
import { readFileSync } from 'node:fs';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { replaceFileAtomic } from '../files/exclusive.ts';
import { CertificateError } from './provider.ts';

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

/** Replaces `path` atomically at exactly `mode`; CertificateError (SMI6013) when it cannot. */
export function writeFileAtomic(path: string, content: string, mode: number): void {
  try {
    replaceFileAtomic(path, content, mode);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CertificateError(diagnostic('cert-file-write-failed', { path, detail: e.code ? `${e.code} (${e.syscall ?? 'write'})` : e.message }));
  }
}

/** The file's text, or undefined when it does not exist. */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
