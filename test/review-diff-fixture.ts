/**
 * The bookstore fixture with three policy edits, for `diff`'s tests: one TrafficTarget source
 * added (bookthief may call bookstore-v2), the split reweighted 50/50 → 25/75, and the
 * HTTPRouteGroup match `books-bought` removed (with the two TrafficTarget rules that named it,
 * which would otherwise name a match that no longer exists, SMI3xxx unknown-match-name).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: ${from} not found`);
  writeFileSync(file, next);
}

/** Writes the edited copy of fixtures/bookstore into `dir` (its files keep their names). */
export function editedBookstore(dir: string): void {
  cpSync('fixtures/bookstore', dir, { recursive: true });
  edit(join(dir, 'bookstore-v2.yaml'), /(  sources:\n  - kind: ServiceAccount\n    name: bookbuyer\n    namespace: bookbuyer\n)/, '$1  - kind: ServiceAccount\n    name: bookthief\n    namespace: bookthief\n');
  edit(join(dir, 'traffic-split-50-50.yaml'), /(version:v1\n    weight: )50/, '$125');
  edit(join(dir, 'traffic-split-50-50.yaml'), /(version:v2\n    weight: )50/, '$175');
  edit(join(dir, 'traffic-access-v1.yaml'), '  - name: books-bought\n    pathRegex: /books-bought\n    methods:\n    - GET\n    headers:\n    - "user-agent": ".*-http-client/*.*"\n    - "client-app": "bookbuyer"\n', '');
  edit(join(dir, 'traffic-access-v1.yaml'), '    - buy-a-book\n    - books-bought\n', '    - buy-a-book\n');
  edit(join(dir, 'bookstore-v2.yaml'), '    - buy-a-book\n    - books-bought\n', '    - buy-a-book\n');
}
