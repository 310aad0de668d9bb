/**
 * Just enough CloudFormation to turn the synthesized template's `DefinitionString` into the definition a real
 * account would run: Fn::Join, Ref and Fn::GetAtt resolved against a fixed simulated account.
 */
export interface SimulatedEnvironment {
  account: string;
  region: string;
  partition: string;
}

export function lambdaArnFor(env: SimulatedEnvironment, logicalId: string): string {
  return `arn:${env.partition}:lambda:${env.region}:${env.account}:function:${logicalId}`;
}

/** `refs` gives what a Ref to a resource returns (e.g. a state machine's ARN); other resources resolve to their logical ID. */
export function resolveIntrinsics(
  value: unknown,
  env: SimulatedEnvironment,
  resources: Record<string, { Type: string }>,
  refs: Record<string, string> = {},
): unknown {
  const recurse = (v: unknown) => resolveIntrinsics(v, env, resources, refs);
  if (Array.isArray(value)) return value.map(recurse);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [[fn, args]] = entries;
    if (fn === 'Fn::Join') {
      const [separator, parts] = args as [string, unknown[]];
      return parts.map(recurse).join(separator);
    }
    if (fn === 'Ref') return refs[args as string] ?? resolveRef(args as string, env, resources);
    if (fn === 'Fn::GetAtt') return resolveGetAtt(args as [string, string], env, resources);
    if (fn.startsWith('Fn::')) throw new Error(`The local run cannot resolve ${fn} in the state machine definition`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, recurse(v)]));
}

function resolveRef(name: string, env: SimulatedEnvironment, resources: Record<string, { Type: string }>): string {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': env.account,
    'AWS::Region': env.region,
    'AWS::Partition': env.partition,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (pseudo[name]) return pseudo[name];
  // Ref of an event bus is its name (CloudFormation's return values), which the stack sets.
  if (resources[name]?.Type === 'AWS::Events::EventBus') return eventBusName(name, resources[name]);
  if (resources[name]) return name;
  throw new Error(`The local run cannot resolve Ref ${name}`);
}

function resolveGetAtt(
  [logicalId, attribute]: [string, string],
  env: SimulatedEnvironment,
  resources: Record<string, { Type: string }>,
): string {
  const resource = resources[logicalId];
  if (resource?.Type === 'AWS::Lambda::Function' && attribute === 'Arn') return lambdaArnFor(env, logicalId);
  // The local run names a state machine after its logical ID (its ARN is `…:stateMachine:<logical ID>`).
  if (resource?.Type === 'AWS::StepFunctions::StateMachine' && attribute === 'Name') return logicalId;
  if (resource?.Type === 'AWS::Events::EventBus' && attribute === 'Arn')
    return `arn:${env.partition}:events:${env.region}:${env.account}:event-bus/${eventBusName(logicalId, resource)}`;
  throw new Error(`The local run cannot resolve Fn::GetAtt ${logicalId}.${attribute}`);
}

/** An event bus's name: its Name property when the template sets one, its logical ID standing for it otherwise. */
export function eventBusName(logicalId: string, resource: object): string {
  const name = (resource as { Properties?: { Name?: unknown } }).Properties?.Name;
  return typeof name === 'string' ? name : logicalId;
}
