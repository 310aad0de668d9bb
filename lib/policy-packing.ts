/**
 * Fits a function's permissions into customer-managed policies of at most IAM's 6,144 characters each
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html, "IAM and AWS STS character limits": white
 * space not counted), so that a stack of a hundred services stays deployable without widening a single ARN.
 *
 * Sizes are measured before deployment, when ARNs still hold CloudFormation references: `worstCaseLength` counts each
 * reference at the longest value it can take, so a policy that fits here fits in the account.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** IAM's limit for one customer-managed policy, in characters without white space. */
export const MANAGED_POLICY_CHARACTERS = 6_144;

/** Room kept in each policy for its `{"Version":"2012-10-17","Statement":[...]}` frame. */
const DOCUMENT_FRAME_CHARACTERS = 64;

/**
 * The longest a pseudo parameter resolves to: `aws-iso-b`/`aws-us-gov` partitions, the longest Region names, twelve
 * digits, the longest URL suffix.
 */
const PSEUDO_PARAMETER_CHARACTERS: Readonly<Record<string, number>> = {
  'AWS::Partition': 10,
  'AWS::Region': 16,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 20,
  'AWS::StackName': 128,
};
/** Any other reference (a table's, a queue's, a key's ARN or name): longer than any ARN CloudFormation generates here. */
const RESOURCE_REFERENCE_CHARACTERS = 320;

/** The most characters `value` (a resolved statement, references included) can take once CloudFormation resolves it. */
export function worstCaseLength(value: unknown): number {
  if (typeof value === 'string') return JSON.stringify(value).length;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return JSON.stringify(value).length;
  if (Array.isArray(value)) return 2 + value.reduce((sum: number, item) => sum + worstCaseLength(item), 0) + Math.max(0, value.length - 1);
  const object = value as Record<string, unknown>;
  if ('Ref' in object) return 2 + (PSEUDO_PARAMETER_CHARACTERS[object.Ref as string] ?? RESOURCE_REFERENCE_CHARACTERS);
  if ('Fn::GetAtt' in object) return 2 + RESOURCE_REFERENCE_CHARACTERS;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    // Each part as it will be joined, escaped as JSON writes it, without its own quotes; a reference at its longest.
    const partLength = (part: unknown) => worstCaseLength(part) - 2;
    return 2 + parts.reduce((sum: number, part) => sum + partLength(part), 0) + partLength(separator) * Math.max(0, parts.length - 1);
  }
  const intrinsic = Object.keys(object).find((key) => key.startsWith('Fn::'));
  // Only Ref, Fn::GetAtt and Fn::Join appear in these policies: another function would need its own bound.
  if (intrinsic !== undefined) throw new Error(`worstCaseLength cannot bound ${intrinsic}: give it its own rule first`);
  const entries = Object.entries(object);
  return (
    2 +
    entries.reduce((sum, [key, item]) => sum + JSON.stringify(key).length + 1 + worstCaseLength(item), 0) +
    Math.max(0, entries.length - 1)
  );
}

/**
 * Packs `statements` into as few policies as fit `budget` characters each (measured by `sizeOf`), in their order. A
 * statement that fits a policy on its own is never cut; one too large for any policy is split by its resources, the
 * first part filling what room the current policy has left.
 */
export function packStatements(
  statements: readonly iam.PolicyStatement[],
  sizeOf: (statement: iam.PolicyStatement) => number,
  budget = MANAGED_POLICY_CHARACTERS - DOCUMENT_FRAME_CHARACTERS,
): iam.PolicyStatement[][] {
  const policies: iam.PolicyStatement[][] = [];
  let current: iam.PolicyStatement[] = [];
  let used = 0;
  const startPolicy = () => {
    policies.push(current);
    current = [];
    used = 0;
  };
  for (const statement of statements) {
    let rest: iam.PolicyStatement | undefined = statement;
    while (rest !== undefined) {
      const size = sizeOf(rest) + 1;
      if (used + size <= budget) {
        current.push(rest);
        used += size;
        rest = undefined;
      } else if (size <= budget) {
        startPolicy();
      } else {
        const [head, tail] = splitToFit(rest, sizeOf, budget - used - 1);
        if (head === undefined) {
          if (current.length === 0)
            throw new Error(`One resource of ${rest.actions.join(', ')} cannot fit an IAM policy of ${budget} characters`);
          startPolicy();
          continue;
        }
        current.push(head);
        used += sizeOf(head) + 1;
        startPolicy();
        rest = tail;
      }
    }
  }
  if (current.length > 0) policies.push(current);
  return policies;
}

/** The most of `statement`'s resources that fit `room` characters, and the rest; undefined when not even one fits. */
function splitToFit(
  statement: iam.PolicyStatement,
  sizeOf: (s: iam.PolicyStatement) => number,
  room: number,
): [iam.PolicyStatement | undefined, iam.PolicyStatement | undefined] {
  // Only Allow/Deny, actions, resources and conditions are carried over to the parts.
  if (statement.sid !== undefined || statement.notResources.length > 0 || statement.notActions.length > 0 || statement.hasPrincipal) {
    throw new Error(`Cannot split a statement with a Sid, NotResource, NotAction or Principal: ${statement.actions.join(', ')}`);
  }
  const resources = statement.resources;
  const withResources = (chunk: string[]) =>
    new iam.PolicyStatement({ effect: statement.effect, actions: statement.actions, resources: chunk, conditions: statement.conditions });
  // The longest prefix that fits (sizes grow with the prefix): binary search.
  let low = 0;
  let high = resources.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (sizeOf(withResources(resources.slice(0, middle))) <= room) low = middle;
    else high = middle - 1;
  }
  if (low === 0) return [undefined, statement];
  return [withResources(resources.slice(0, low)), low < resources.length ? withResources(resources.slice(low)) : undefined];
}
