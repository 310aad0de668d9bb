/** What the ledger workflow tests share: the example scenarios, and readers of what a played scenario recorded. */
import * as path from 'node:path';
import type { DeploymentRecord } from '../../lambdas/contract/ledger-records';
import type { ExecutionResult, ScenarioResult } from '../../local/play';
import { loadScenario, scenarioSchema, type Scenario } from '../../local/scenario';
import { expect } from 'vitest';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SCENARIOS = path.join(ROOT, 'examples', 'scenarios');
export const REPOSITORY_URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment';
export const SHA256 = /^sha256:[0-9a-f]{64}$/;

export function example(name: string): Scenario {
  return loadScenario(path.join(SCENARIOS, `${name}.json`));
}

/** A copy of `scenario` with its steps (and other fields) changed, validated like a scenario file. */
export function variant(scenario: Scenario, steps: (steps: unknown[]) => unknown[], changes: Record<string, unknown> = {}): Scenario {
  const copy = JSON.parse(JSON.stringify(scenario)) as Scenario;
  return scenarioSchema.parse({ ...copy, name: `${copy.name} (variant)`, steps: steps(copy.steps), ...changes });
}

export function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0]!;
}

/** The execution started by the delivery labelled so, e.g. `push v1.3.0 (delivery 2 of 3)`. */
export function execution(result: ScenarioResult, label: string): ExecutionResult {
  return only(
    result.executions.filter((e) => e.label === label),
    `execution "${label}"`,
  );
}

/** The one deployment record the execution made. */
export function recordOf(result: ScenarioResult, of: ExecutionResult): DeploymentRecord {
  return only(
    result.ledger.deployments.filter((r) => r.executionArn === of.report.executionArn),
    `record of ${of.label}`,
  );
}

export function calls(result: ScenarioResult, command: string): any[] {
  return result.account.calls.filter((c) => c.command === command).map((c) => c.input as any);
}

export function modelImage(registerInput: any): string {
  return registerInput.containerDefinitions.find((c: any) => c.name === 'model').image;
}

export function visited(of: ExecutionResult): string[] {
  return of.report.history.filter((h) => h.type === 'StateEntered').map((h) => h.state!);
}

export function expectNoMismatches(result: ScenarioResult): void {
  expect(result.executions.flatMap((e) => e.mismatches.map((m) => `${e.label}: ${m}`))).toEqual([]);
  expect(result.operations.flatMap((o) => o.mismatches.map((m) => `${o.command}: ${m}`))).toEqual([]);
  expect(result.endMismatches).toEqual([]);
}
