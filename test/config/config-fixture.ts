/**
 * The example configuration, parsed afresh for each case to break in one place, the issues a broken one gets, and a
 * gray release to add to it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config';

export const ROOT = path.resolve(__dirname, '../..');
export const EXAMPLE = path.join(ROOT, 'model-rollout.config.json');
export const DEMO_PUBLIC_KEY = readFileSync(path.join(ROOT, 'examples/keys/demo-cosign.pub'), 'utf8');

/** A fresh, valid raw configuration (the example file) for each case to break in one place. */
export function example(): any {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8'));
}

/** The issues parseConfig reports for `raw`, or a failure if it accepts it. */
export function issuesOf(raw: unknown, baseDir = ROOT): readonly string[] {
  try {
    parseConfig(raw, baseDir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  expect.fail('expected the configuration to be rejected');
}

const ELB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
/** The internal ALB's HTTP listener: its default action, or one of its rules, weighs a gray release's target groups. */
export const LISTENER_ARN = `${ELB}:listener/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2`;
export const listenerRuleArn = (ruleId: string) => `${ELB}:listener-rule/app/models-internal/50dc6c495c0c9188/f2f7dc8efc522ab2/${ruleId}`;
export const targetGroupArn = (name: string) => `${ELB}:targetgroup/${name}/73e2d6bc24d8a067`;

/**
 * A gray release of ECS service `service`, as it would be written in the file: listener rule `ruleId` of the internal
 * ALB, target groups `<service>-stable` and `<service>-canary`, canary service `<service>-canary`, probe on port 8080;
 * everything else left to its default. A fresh object on every call.
 */
export function grayRelease(service: string, ruleId: string): any {
  return {
    strategy: 'gray',
    traffic: {
      listenerRuleArn: listenerRuleArn(ruleId),
      stableTargetGroupArn: targetGroupArn(`${service}-stable`),
      canaryTargetGroupArn: targetGroupArn(`${service}-canary`),
      canaryService: `${service}-canary`,
      taskSecurityGroupId: 'sg-0a1b2c3d4e5f60011',
    },
    probe: { port: 8080 },
  };
}

/** The example with a gray release of `sentiment` (services[0], production), the other service left rolling. */
export function exampleWithGray(): any {
  const raw = example();
  raw.services[0].release = grayRelease('sentiment', '9683b2d02a6cabee');
  return raw;
}
