/**
 * `smi-compile lnit base`: compile is the default command, so a mistyped command name would be
 * read as an input path (SMI1009 cannot read lnit). When the first word is not an existing path
 * and is one or two edits away from a command, it is a usage error that names the command.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Edits (insert, delete, substitute, swap two neighbours) between `a` and `b`: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The command `word` most likely meant, if it is close to one: one edit for names of up to 4 letters, two beyond. */
export function closestCommand(word: string, commands: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const command of commands) {
    const distance = editDistance(word.toLowerCase(), command);
    const allowed = Math.max(word.length, command.length) <= 4 ? 1 : 2;
    if (distance > 0 && distance <= allowed && distance < bestDistance) {
      best = command;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * `unknown command 'lnit' (did you mean lint?)` when the first command-line word looks like a
 * mistyped command; undefined otherwise. Only the word in the command's place counts (after the
 * flag-only global `--debug`): after an option such as `-o`, a word may be its value.
 */
export function mistypedCommand(argv: readonly string[], commands: readonly string[], cwd: string): string | undefined {
  const first = argv.find((a) => a !== '--debug');
  if (first === undefined || first.startsWith('-') || commands.includes(first) || existsSync(resolve(cwd, first))) return undefined;
  const command = closestCommand(first, commands);
  return command && `unknown command '${first}' (did you mean ${command}?)`;
}
