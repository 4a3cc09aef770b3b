/** `explain`'s human output: the verdict, then the request's way through the sidecars, each step with the Envoy names and the policy lines. */
import type { Explanation, PolicyRef, WorkloadVerdict } from './explain.ts';

function ref(r: PolicyRef): string {
  return `${r.kind} ${r.namespace}/${r.name}${r.detail ? ` ${r.detail}` : ''} (${r.file}:${r.line})`;
}

function workloadLines(w: WorkloadVerdict): string[] {
  const lines = [`    ${w.workload}: ${w.allowed ? 'allowed' : `denied (${w.outcome === 'refused' ? 'connection refused' : w.outcome})`}: ${w.reason}`];
  const rbac = w.networkRbac ? `, ${w.networkRbac.filter} policies [${w.networkRbac.policies.join(', ')}]` : '';
  lines.push(`      ${w.listener}, filter chain ${w.filterChain}${rbac}`);
  if (w.routeConfig) {
    const route = w.route ? `, route ${w.route}` : '';
    const rbacRoute = w.routeRbac ? ` (${w.routeRbac.filter} policy ${w.routeRbac.policy})` : '';
    lines.push(`      route config ${w.routeConfig}${w.virtualHost ? `, virtual host ${w.virtualHost}` : ''}${route}${rbacRoute}`);
  }
  for (const p of w.policies) lines.push(`      ${ref(p)}`);
  return lines;
}

export function formatExplanation(e: Explanation): string {
  const r = e.request;
  const what = r.method !== undefined ? ` ${r.method} ${r.path}` : '';
  const lines = [`${r.from} → ${r.to}:${r.port} (${r.protocol})${what}: ${e.verdict.toUpperCase()}`, `  ${e.reason}`];
  if (e.outbound) {
    const o = e.outbound;
    lines.push(`  from ${r.from} (${r.identity}): ${o.listener}, filter chain ${o.filterChain}${o.routeConfig ? `, route config ${o.routeConfig}, virtual host ${o.virtualHost}` : ''}`);
    if (o.split) lines.push(`  split by ${ref(o.split)}`);
  }
  for (const p of e.policies) lines.push(`  ${ref(p)}`);
  for (const b of e.backends) {
    lines.push(`  backend ${b.service} (cluster ${b.cluster}, weight ${b.weight})${b.workloads.length === 0 ? ': no workload' : ''}`);
    for (const w of b.workloads) lines.push(...workloadLines(w));
  }
  return `${lines.join('\n')}\n`;
}
