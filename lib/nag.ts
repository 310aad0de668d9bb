/**
 * cdk-nag: the AwsSolutions, NIST 800-53 rev 5 and Serverless packs check every synth. A finding the stack cannot fix is
 * acknowledged on the construct it concerns, with a reason about that construct.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Registers the packs on the app: synth fails, listing every unacknowledged finding, when there is one. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new ServerlessChecks(app));
}

/** Acknowledges one cdk-nag finding (`Rule` or `Rule[Finding]`) on `scope` and everything below it. */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: rule, reason });
}

/**
 * A resolved CloudFormation value as cdk-nag names it in a finding: references to resources of the stack as
 * `<LogicalId.Arn>`, pseudo parameters as `<AWS::Region>`. The IAM allow-list test reads the template the same way.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if ('Ref' in node) return `<${String(node.Ref)}>`;
    if ('Fn::GetAtt' in node) {
      const [logicalId, attribute] = node['Fn::GetAtt'] as [string, string];
      return `<${logicalId}.${attribute}>`;
    }
    if ('Fn::Join' in node) {
      const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  return JSON.stringify(value);
}
