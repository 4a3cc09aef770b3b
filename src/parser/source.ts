/** One input file, read into memory. */
export interface SourceFile {
  /** The path as the user gave it (relative stays relative); `<stdin>` for standard input. */
  path: string;
  text: string;
}

export const STDIN_PATH = '<stdin>';
