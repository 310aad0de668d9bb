/**
 * The policies AWS would evaluate for the calls of a local run, read from the synthesized template: for each role the
 * pipeline runs as (each function's, the state machine's, the trigger rule's EventsRole) the identity policies attached
 * to it, the key policies of the stack's KMS keys (KMS evaluates a key's own policy on every use of the key), the
 * functions' and the event buses' resource policies, and the policies of the VPC endpoints the functions call through.
 *
 * Local names: a role is named after its logical ID, its sessions after the function (Lambda's session name) or the
 * service that assumes it; AWS would name them `<stack>-<id>-<suffix>`. Only the names differ.
 */
import type { Stack } from 'aws-cdk-lib';
import type { DeploymentLedgerTable } from '../../lib/deployment-ledger';
import { PIPELINE_ENDPOINTS } from '../../lib/endpoints';
import type { RolloutPipeline } from '../../lib/rollout-pipeline';
import type { ModelRolloutStack } from '../../lib/model-rollout-stack';
import type { IConstruct } from 'constructs';
import {
  EVENT_FUNCTIONS,
  RULE_TARGETS,
  STEP_FUNCTIONS,
  type EventFunctionName,
  type RuleTargetName,
  type StepFunctionName,
} from '../../lib/state-names';
import { eventBusName, lambdaArnFor, resolveIntrinsics, type SimulatedEnvironment } from '../cloudformation';

/**
 * Who makes a call: a function (by its step or event name), the state machine, the rule that starts it on a push (its
 * EventsRole), or EventBridge itself invoking a function for a rule (the service principal, no role).
 */
/** `operator`: a role with the stack's ApproverPolicy attached; `operator:<service>`: with that gray service's own. */
export type PrincipalName =
  | StepFunctionName
  | EventFunctionName
  | 'state-machine'
  | 'trigger'
  | 'events'
  | 'operator'
  | `operator:${string}`;

export type PolicyDocument = { Version?: string; Statement: Record<string, unknown>[] };

export interface RolePrincipal {
  name: PrincipalName;
  roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`: who AWS names in an AccessDenied message. */
  sessionArn: string;
  identityPolicies: { name: string; policy: PolicyDocument }[];
}

export interface AccountPolicies {
  env: SimulatedEnvironment;
  principals: Record<PrincipalName, RolePrincipal>;
  /** Key ARN → key policy, for the stack's own keys. */
  keyPolicies: Map<string, PolicyDocument>;
  /** Function ARN → its resource policy (the template's Lambda permissions): who else may invoke it. */
  functionPolicies: Map<string, PolicyDocument>;
  /** Event bus ARN → its resource policy (the template's event bus policies, one statement each). */
  busPolicies: Map<string, PolicyDocument>;
  /**
   * IAM service prefix (`ecs`) → the policy of the interface endpoint the stack created for it: the functions reach AWS
   * through it, so their calls of that service must be allowed there too. Absent: no endpoint policy applies (an
   * endpoint the VPC already had, or a gateway endpoint with AWS's default policy).
   */
  endpointPolicies: Map<string, PolicyDocument>;
  /**
   * The rule whose target each rule-invoked function is (EventBridge invokes it with that rule as aws:SourceArn); the
   * first, for a function several rules target (each has a Lambda permission of the same shape).
   */
  invokingRules: Record<RuleTargetName, string>;
  /** Every EventBridge rule of the template, by logical ID: its ARN (the aws:SourceArn of what it delivers). */
  ruleArns: Record<string, string>;
  /** The ledger table (named after its logical ID: the local run's table name stands for it) and its encryption key. */
  ledger: { tableArn: string; keyArn: string };
  /** A function's ARN → its step, for lambda:InvokeFunction by the state machine. */
  functionArns: Record<StepFunctionName | EventFunctionName, string>;
}

type Json = any;
type Resources = Record<string, { Type: string; Properties?: Json }>;

/**
 * ARNs of the resource types a policy of this stack refers to with Fn::GetAtt …Arn, built like lambdaArnFor. A rule on
 * a custom bus is `rule/<bus>/<rule>` (Service Authorization Reference, EventBridge: rule-on-custom-event-bus).
 */
function arnOfResource(
  env: SimulatedEnvironment,
  logicalId: string,
  type: string,
  properties?: Json,
  resources?: Resources,
): string | undefined {
  const here = `${env.region}:${env.account}`;
  const busId = properties?.EventBusName?.Ref as string | undefined;
  const bus = busId && resources ? eventBusName(busId, resources[busId] ?? {}) : busId;
  const arns: Record<string, string> = {
    'AWS::Lambda::Function': lambdaArnFor(env, logicalId),
    'AWS::IAM::Role': `arn:${env.partition}:iam::${env.account}:role/${logicalId}`,
    'AWS::KMS::Key': `arn:${env.partition}:kms:${here}:key/${logicalId}`,
    'AWS::DynamoDB::Table': `arn:${env.partition}:dynamodb:${here}:table/${logicalId}`,
    'AWS::Logs::LogGroup': `arn:${env.partition}:logs:${here}:log-group:${logicalId}:*`,
    'AWS::SQS::Queue': `arn:${env.partition}:sqs:${here}:${logicalId}`,
    'AWS::Events::Rule': `arn:${env.partition}:events:${here}:rule/${bus ? `${bus}/` : ''}${logicalId}`,
    'AWS::Events::EventBus': `arn:${env.partition}:events:${here}:event-bus/${eventBusName(logicalId, { Properties: properties })}`,
    'AWS::SNS::Topic': `arn:${env.partition}:sns:${here}:${logicalId}`,
    'AWS::StepFunctions::StateMachine': `arn:${env.partition}:states:${here}:stateMachine:${logicalId}`,
  };
  return arns[type];
}

/** A policy document with every intrinsic resolved: GetAtt …Arn and Ref to ARNs, Join and pseudo parameters by resolveIntrinsics. */
export function resolvePolicy(document: unknown, env: SimulatedEnvironment, resources: Resources): PolicyDocument {
  const refs: Record<string, string> = {};
  for (const [id, { Type }] of Object.entries(resources)) {
    // Ref returns the ARN for these types (CloudFormation's Return values), the logical ID stands for the name otherwise.
    if (Type === 'AWS::StepFunctions::StateMachine' || Type === 'AWS::SNS::Topic') refs[id] = arnOfResource(env, id, Type)!;
  }
  const withArns = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(withArns);
    if (typeof value !== 'object' || value === null) return value;
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt && getAtt[1] === 'Arn' && resources[getAtt[0]]) {
      const arn = arnOfResource(env, getAtt[0], resources[getAtt[0]].Type, resources[getAtt[0]].Properties, resources);
      if (arn) return arn;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withArns(v)]));
  };
  return resolveIntrinsics(withArns(document), env, resources, refs) as PolicyDocument;
}

/** What the readers below share: the template's resources, the simulated account, and how to resolve a document. */
interface TemplateReader {
  readonly resources: Resources;
  readonly env: SimulatedEnvironment;
  resolve(document: unknown): PolicyDocument;
  idOf(construct: { node: { defaultChild?: unknown } }): string;
}

/** Every policy the local run's calls are evaluated against, from the stack's synthesized template. */
export function readAccountPolicies(stack: Stack, template: { Resources: Resources }, env: SimulatedEnvironment): AccountPolicies {
  const resources = template.Resources;
  const pipeline = stack.node.findChild('Pipeline') as RolloutPipeline;
  const ledger = stack.node.findChild('Ledger') as DeploymentLedgerTable;
  const reader: TemplateReader = {
    resources,
    env,
    resolve: (document) => resolvePolicy(document, env, resources),
    idOf: (construct) => stack.getLogicalId(construct.node.defaultChild as never),
  };
  const { principals, functionArns } = rolePrincipals(reader, pipeline);
  Object.assign(principals, operatorPrincipals(reader, stack));
  const tableId = reader.idOf(ledger.table);
  const keyArn = reader.resolve({ Statement: [{ Resource: resources[tableId].Properties.SSESpecification.KMSMasterKeyId }] }).Statement[0]
    .Resource as string;
  return {
    env,
    principals,
    keyPolicies: keyPolicies(reader),
    functionPolicies: functionPolicies(reader),
    busPolicies: busPolicies(reader),
    endpointPolicies: endpointPolicies(reader),
    invokingRules: invokingRules(reader, pipeline),
    ruleArns: Object.fromEntries(
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::Events::Rule')
        .map(([id, r]) => [id, arnOfResource(env, id, 'AWS::Events::Rule', r.Properties, resources)!]),
    ),
    ledger: { tableArn: arnOfResource(env, tableId, 'AWS::DynamoDB::Table')!, keyArn },
    functionArns,
  };
}

/** The identity policies of a role of the template: inline, and the managed and default policies attached to it. */
function policiesOfRole({ resources, resolve }: TemplateReader, roleId: string): RolePrincipal['identityPolicies'] {
  const role = resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`The local run's IAM: ${roleId} is not a role of the template`);
  if (role.Properties?.ManagedPolicyArns?.length) {
    throw new Error(
      `The local run's IAM cannot read the managed policies ${JSON.stringify(role.Properties.ManagedPolicyArns)} attached to ${roleId}`,
    );
  }
  const inline = ((role.Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map((p) => ({
    name: p.PolicyName,
    policy: resolve(p.PolicyDocument),
  }));
  const attached = Object.entries(resources)
    .filter(
      ([, r]) =>
        (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') &&
        ((r.Properties?.Roles ?? []) as Json[]).some((ref) => ref?.Ref === roleId),
    )
    .map(([id, r]) => ({ name: id, policy: resolve(r.Properties!.PolicyDocument) }));
  return [...inline, ...attached];
}

/** The roles the local run acts as: each function's, the state machine's, the trigger's; and EventBridge itself. */
function rolePrincipals(reader: TemplateReader, pipeline: RolloutPipeline) {
  const { resources, env, idOf } = reader;
  const principal = (name: PrincipalName, roleId: string, session: string): RolePrincipal => ({
    name,
    roleArn: arnOfResource(env, roleId, 'AWS::IAM::Role')!,
    sessionArn: `arn:${env.partition}:sts::${env.account}:assumed-role/${roleId}/${session}`,
    identityPolicies: policiesOfRole(reader, roleId),
  });
  const roleIdOf = (arn: Json): string => {
    const id = arn?.['Fn::GetAtt']?.[0];
    if (typeof id !== 'string') throw new Error(`The local run's IAM expected a role reference (Fn::GetAtt), got ${JSON.stringify(arn)}`);
    return id;
  };
  const principals = {} as Record<PrincipalName, RolePrincipal>;
  const functionArns = {} as AccountPolicies['functionArns'];
  for (const name of [...STEP_FUNCTIONS, ...EVENT_FUNCTIONS]) {
    const functionId = idOf(pipeline.functions[name]);
    functionArns[name] = lambdaArnFor(env, functionId);
    // Lambda names the role session after the function.
    principals[name] = principal(name, roleIdOf(resources[functionId].Properties.Role), functionId);
  }
  const stateMachineId = idOf(pipeline.stateMachine);
  principals['state-machine'] = principal('state-machine', roleIdOf(resources[stateMachineId].Properties.RoleArn), stateMachineId);
  const triggerTarget = resources[idOf(pipeline.trigger)].Properties.Targets[0];
  principals.trigger = principal('trigger', roleIdOf(triggerTarget.RoleArn), 'events');
  principals.events = { name: 'events', roleArn: '', sessionArn: 'events.amazonaws.com', identityPolicies: [] };
  return { principals, functionArns };
}

/**
 * Operators' roles: the stack attaches its approvers' policies to none, so each stands for a role an operator attached
 * it to (the session the local CLI runs as), with that policy alone.
 */
function operatorPrincipals(reader: TemplateReader, stack: Stack): Record<PrincipalName, RolePrincipal> {
  const { env, resources, resolve, idOf } = reader;
  const sessionArn = `arn:${env.partition}:sts::${env.account}:assumed-role/operator/local-operator`;
  const principal = (name: PrincipalName, policy: IConstruct): RolePrincipal => {
    const id = idOf(policy);
    return {
      name,
      roleArn: `arn:${env.partition}:iam::${env.account}:role/operator`,
      sessionArn,
      identityPolicies: [{ name: id, policy: resolve(resources[id]!.Properties!.PolicyDocument) }],
    };
  };
  const approvers = stack.node.tryFindChild('ApproverPolicy');
  const perService = (stack as Partial<ModelRolloutStack>).serviceApproverPolicies ?? {};
  return {
    ...(approvers ? { operator: principal('operator', approvers) } : {}),
    ...Object.fromEntries(
      Object.entries(perService).map(([service, policy]) => [`operator:${service}`, principal(`operator:${service}`, policy)]),
    ),
  } as Record<PrincipalName, RolePrincipal>;
}

function keyPolicies({ resources, env, resolve }: TemplateReader): Map<string, PolicyDocument> {
  const policies = new Map<string, PolicyDocument>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::KMS::Key') policies.set(arnOfResource(env, id, r.Type)!, resolve(r.Properties!.KeyPolicy));
  }
  return policies;
}

/** A Lambda permission is one statement of the function's resource policy (Lambda developer guide, "resource-based policies"). */
function functionPolicies({ resources, resolve }: TemplateReader): Map<string, PolicyDocument> {
  const policies = new Map<string, PolicyDocument>();
  for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission')) {
    const p = resolve(r.Properties) as unknown as Record<string, string>;
    const principalKind = /\.amazonaws\.com$/.test(p.Principal) ? 'Service' : 'AWS';
    const conditions = {
      ...(p.SourceArn ? { ArnLike: { 'aws:SourceArn': p.SourceArn } } : {}),
      ...(p.SourceAccount ? { StringEquals: { 'aws:SourceAccount': p.SourceAccount } } : {}),
    };
    const statement = {
      Effect: 'Allow',
      Principal: { [principalKind]: p.Principal },
      Action: p.Action,
      Resource: p.FunctionName,
      ...(Object.keys(conditions).length ? { Condition: conditions } : {}),
    };
    const policy = policies.get(p.FunctionName) ?? { Version: '2012-10-17', Statement: [] };
    policy.Statement.push(statement);
    policies.set(p.FunctionName, policy);
  }
  return policies;
}

/** A bus's policy: its own Policy property, and any AWS::Events::EventBusPolicy statements added to it. */
function busPolicies({ resources, env, resolve }: TemplateReader): Map<string, PolicyDocument> {
  const policies = new Map<string, PolicyDocument>();
  const addToBusPolicy = (busId: string, statements: unknown[]) => {
    const busArn = arnOfResource(env, busId, 'AWS::Events::EventBus', resources[busId]?.Properties)!;
    const policy = policies.get(busArn) ?? { Version: '2012-10-17', Statement: [] };
    policy.Statement.push(...resolve({ Statement: statements }).Statement);
    policies.set(busArn, policy);
  };
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::Events::EventBus' && r.Properties?.Policy) addToBusPolicy(id, r.Properties.Policy.Statement);
    if (r.Type === 'AWS::Events::EventBusPolicy') addToBusPolicy(r.Properties.EventBusName.Ref, [r.Properties.Statement]);
  }
  return policies;
}

/** Each created endpoint's policy, by the IAM service prefix of the actions it carries. */
function endpointPolicies({ resources, env, resolve }: TemplateReader): Map<string, PolicyDocument> {
  const policies = new Map<string, PolicyDocument>();
  for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.PolicyDocument)) {
    // com.amazonaws.<region>.<endpoint name>
    const serviceName = String(resolveIntrinsics(r.Properties.ServiceName, env, resources)).replace(`com.amazonaws.${env.region}.`, '');
    const spec = PIPELINE_ENDPOINTS.find((endpoint) => endpoint.name === serviceName);
    if (!spec) throw new Error(`The local run's IAM does not know the endpoint service ${serviceName}`);
    policies.set(spec.iamService, resolve(r.Properties.PolicyDocument));
  }
  return policies;
}

/** The rule that invokes each event function (its ARN is the aws:SourceArn of the invocation). */
function invokingRules({ resources, env, idOf }: TemplateReader, pipeline: RolloutPipeline): Record<RuleTargetName, string> {
  const rules = {} as Record<RuleTargetName, string>;
  for (const name of RULE_TARGETS) {
    const functionId = idOf(pipeline.functions[name]);
    const rule = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Events::Rule' && ((r.Properties?.Targets ?? []) as Json[]).some((t) => t.Arn?.['Fn::GetAtt']?.[0] === functionId),
    );
    if (!rule) throw new Error(`The local run's IAM found no rule that targets the ${name} function`);
    rules[name] = arnOfResource(env, rule[0], 'AWS::Events::Rule', rule[1].Properties, resources)!;
  }
  return rules;
}
