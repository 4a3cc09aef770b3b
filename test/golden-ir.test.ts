/**
 * The planned IR of every fixture, byte for byte: `golden-ir/<fixture>.yaml` holds its
 * ProxyPlans (src/ir/plan-yaml.ts), what emit turns into the Envoy resources of `golden/`. A
 * change to the passes shows here as policy (who may call what, which chains, which clusters)
 * before it shows as Envoy JSON. `npm run golden:update` rewrites this layer with `golden/`;
 * review `git diff golden-ir/` like code. Emit's tests load their plans from it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../src/compiler/compile.ts';
import { formatDiagnostic } from '../src/diagnostics/diagnostic.ts';
import { plansFromYaml, plansToYaml } from '../src/ir/plan-yaml.ts';
import type { PlannedMesh } from '../src/passes/index.ts';
import { FIXTURES, pruneGoldens, scenarios, UPDATE } from './golden-layer.ts';

const GOLDEN = 'golden-ir';

function plannedYaml(scenario: string): string {
  const result = compilePaths([join(FIXTURES, scenario)], { analyseOnly: true });
  assert.equal(result.diagnostics.filter((d) => d.level === 'error').map(formatDiagnostic), [], 'fixture compiles without errors');
  return plansToYaml((result.mesh as PlannedMesh).proxies);
}

for (const scenario of scenarios) {
  test(`golden-ir: ${scenario}`, () => {
    const yaml = plannedYaml(scenario);
    const file = join(GOLDEN, `${scenario}.yaml`);
    if (UPDATE) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, yaml);
      return;
    }
    assert.ok(existsSync(file), `no planned IR golden for ${scenario}: run npm run golden:update`);
    assert.fixture(yaml, readFileSync(file, 'utf8'), `${scenario} plans differ from ${file}; if intended run npm run golden:update and review git diff ${GOLDEN}/`);
  });
}

test('golden-ir: read back, the plans write the same bytes, and chains hold the outbound items themselves', () => {
  for (const scenario of scenarios) {
    const text = readFileSync(join(GOLDEN, `${scenario}.yaml`), 'utf8');
    const plans = plansFromYaml(text);
    assert.is(plansToYaml(plans), text, scenario);
    for (const plan of plans) {
      for (const chain of plan.outboundLayout.chains) {
        for (const out of chain.kind === 'service' ? [chain.service] : chain.services) assert.ok(plan.outbound.includes(out), `${scenario}: ${plan.workload}`);
      }
    }
  }
});

test('golden-ir: a chain naming a service port outside the outbound list is refused', () => {
  const text = readFileSync(join(GOLDEN, 'bookstore.yaml'), 'utf8');
  const chain = /service: (\S+:\d+)/.exec(text);
  assert.ok(chain, 'bookstore has an outbound chain');
  assert.throws(() => plansFromYaml(text.replace(chain[0], 'service: nowhere/none:1')), /nowhere\/none:1/);
});

test('golden-ir: no golden without a fixture', () => pruneGoldens(GOLDEN, (entry) => entry.replace(/\.yaml$/, '')));

test.run();
