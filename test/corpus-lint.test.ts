/**
 * Real manifests nobody here wrote (OSM's documentation samples, copied with their license into
 * src/parser/testdata/osm-docs) lint without errors when applied as the docs apply them. Every
 * finding that remains is a true one, explained below.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../src/compiler/compile.ts';
import type { Diagnostic } from '../src/diagnostics/diagnostic.ts';

const DOCS = join('src', 'parser', 'testdata', 'osm-docs');
const lint = (...paths: string[]) => compilePaths(paths.map((p) => join(DOCS, p)), { analyseOnly: true }).diagnostics;
const summary = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.source?.file.slice(DOCS.length + 1)}:${d.source?.line} ${d.level} ${d.code}`);

/**
 * True findings in OSM's bookstore apps:
 * - SMI3007 ×4: the bookstore and bookwarehouse ports are named `bookstore-port` /
 *   `bookwarehouse-port`, with no `appProtocol` and no `http-` prefix. OSM falls back to HTTP,
 *   which is right for these apps, but the same default silently breaks a TCP service.
 * - SMI3016: mysql is headless and the docs ship no Endpoints, so a compile from these files
 *   alone cannot know the pod IPs callers will dial (OSM learns them from the API server).
 */
const BOOKSTORE_FINDINGS = [
  'apps/bookstore-v2.yaml:13 warning SMI3007',
  'apps/bookstore.yaml:15 warning SMI3007',
  'apps/bookstore.yaml:33 warning SMI3007',
  'apps/bookwarehouse.yaml:21 warning SMI3007',
  'apps/mysql.yaml:20 info SMI3016',
];

test('bookstore demo, restrictive (apps + traffic-access-v1 + 50/50 split): no errors', () => {
  assert.equal(summary(lint('apps', 'access/traffic-access-v1.yaml', 'split/traffic-split-50-50.yaml')), BOOKSTORE_FINDINGS);
});

test('bookstore demo with bookthief allowed and the v1-only split: no errors', () => {
  assert.equal(summary(lint('apps', 'access/traffic-access-v1-allow-bookthief.yaml', 'split/traffic-split-v1.yaml')), BOOKSTORE_FINDINGS);
});

test('bookstore demo in permissive mode: SMI3013 says the TrafficTargets are not enforced (true: permissive mode ignores them)', () => {
  const found = summary(lint('apps', 'access/traffic-access-v1.yaml', 'split/traffic-split-v2.yaml', 'meshconfig'));
  assert.equal(found, [...BOOKSTORE_FINDINGS, 'meshconfig/mesh-config.yaml:15 info SMI3013']);
});

test('the httpbin, canary, curl and fortio samples: nothing to report', () => {
  assert.equal(summary(lint('samples')), []);
});

test('the whole docs folder at once: the alternative versions of one resource are duplicates (true: kubectl apply -f would keep only the last)', () => {
  const errors = lint('.').filter((d) => d.level === 'error');
  assert.ok(errors.length > 0);
  assert.equal([...new Set(errors.map((d) => d.code))], ['SMI3006']);
});

test.run();
