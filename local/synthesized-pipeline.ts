/**
 * What a local run needs from the stack the CDK app synthesizes for a configuration: the state machine's definition,
 * which Task state invokes which function, each function's timeout and environment, the rules' event patterns, and
 * the policies every simulated call is authorized against.
 */
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { Stack } from 'aws-cdk-lib';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import type { Severity } from '../lambdas/contract/outcomes';
import type { AlertRouting } from '../lib/alert-routing';
import { buildApp } from '../lib/build-app';
import type { RolloutPipeline } from '../lib/rollout-pipeline';
import { STEP_FUNCTIONS, type StepFunctionName } from '../lib/state-names';
import { lambdaArnFor, resolveIntrinsics, type SimulatedEnvironment } from './cloudformation';
import { isTokenTask } from './runnable-definition';
import { readAccountPolicies, type AccountPolicies } from './iam/policies';

type Json = any;
type Template = { Resources: Record<string, { Type: string; Properties: Json }> };

export interface SynthesizedPipeline {
  definition: Json;
  catalog: ServiceCatalog;
  /** Task state name → the Lambda step it invokes. */
  stepOfState: Map<string, StepFunctionName>;
  /** Each step function's configured timeout (its `Timeout`), in seconds. */
  timeoutSecondsOf: Record<StepFunctionName, number>;
  /** Each step function's environment variables, as the template sets them (intrinsics resolved). */
  environmentOf: Record<StepFunctionName, Record<string, string>>;
  /** Synthesized with `bundleInto`: each step function's staged asset (the folder holding its bundled index.js). */
  bundleOf?: Record<StepFunctionName, string>;
  /** Alert rules of the synthesized stack: the bus each listens on, its pattern and the severity of the topic it targets. */
  alertRules: AlertRule[];
  /** The pattern of the rule that sends ended executions to the crash finaliser. */
  finaliserPattern: Json;
  /** The rules that send ECS deployment and alarm events to the health wait (await-health): logical ID and pattern. */
  waitEventRules: { id: string; pattern: Json }[];
  /** The patterns of the rules that start an execution for an ECR push (what EventBridge lets through). */
  triggerPatterns: Json[];
  stateMachineArn: string;
  env: SimulatedEnvironment;
  /** The verify step's pinned AWS Signer root certificates (its SIGNER_ROOT_CERTIFICATES), PEM; '' when none. */
  signerRootCertificates: string;
  /** The roles' policies and the key policies every simulated call is authorized against. */
  iam: AccountPolicies;
}

export interface AlertRule {
  name: string;
  bus: string;
  pattern: Json;
  severities: Severity[];
}

/** The synthesized stack and how to read it: a construct's template resource, intrinsics resolved. */
interface SynthesizedStack {
  stack: Stack;
  template: Template;
  resourceOf: (construct: { node: { defaultChild?: unknown } }) => { Type: string; Properties: Json };
  resolve: (value: unknown) => unknown;
}

/**
 * Synthesizes the CDK app for a configuration and extracts what a local run needs: without bundling (the handlers run
 * from source), or with `bundleInto` a folder, bundling every function as `cdk deploy` would, into that assembly.
 */
export function synthesizePipeline(
  configPath: string,
  env: Partial<SimulatedEnvironment> = {},
  options: { bundleInto?: string } = {},
): SynthesizedPipeline {
  const environment: SimulatedEnvironment = { account: '123456789012', region: 'us-east-1', partition: 'aws', ...env };
  const { app, stack } = buildApp(
    configPath,
    options.bundleInto ? { outdir: options.bundleInto } : { context: { 'aws:cdk:bundling-stacks': [] } },
  );
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Template;
  const pipeline = stack.node.findChild('Pipeline') as RolloutPipeline;
  const stateMachineId = stack.getLogicalId(pipeline.stateMachine.node.defaultChild as never);
  const stateMachineArn = `arn:aws:states:${environment.region}:${environment.account}:stateMachine:${stateMachineId}`;
  const synthesized: SynthesizedStack = {
    stack,
    template,
    resourceOf: (construct) => template.Resources[stack.getLogicalId(construct.node.defaultChild as never)]!,
    resolve: (value) => resolveIntrinsics(value, environment, template.Resources, { [stateMachineId]: stateMachineArn }),
  };
  const definition = JSON.parse(synthesized.resolve(template.Resources[stateMachineId]!.Properties.DefinitionString) as string);
  const verifyFunction = synthesized.resourceOf(pipeline.functions['verify-signature']);
  return {
    definition,
    catalog: pipeline.catalog,
    stepOfState: stepOfState(definition, pipeline, stack, environment),
    ...functionSettings(synthesized, pipeline, options.bundleInto ? assembly.directory : undefined),
    alertRules: alertRules(synthesized, stack.node.findChild('Alerts') as AlertRouting),
    finaliserPattern: synthesized.resolve(synthesized.resourceOf(pipeline.crashFinaliser).Properties.EventPattern),
    waitEventRules: pipeline.waitEvents.map((rule) => ({
      id: stack.getLogicalId(rule.node.defaultChild as never),
      pattern: synthesized.resolve(synthesized.resourceOf(rule).Properties.EventPattern),
    })),
    // One rule per group of repositories (EventBridge's pattern size quota): a push starts an execution if any matches.
    triggerPatterns: pipeline.triggers.map((rule) => synthesized.resolve(synthesized.resourceOf(rule).Properties.EventPattern)),
    stateMachineArn,
    env: environment,
    signerRootCertificates: verifyFunction.Properties.Environment?.Variables?.SIGNER_ROOT_CERTIFICATES ?? '',
    iam: readAccountPolicies(stack, template, environment),
  };
}

/**
 * Task state name → the Lambda step it invokes: by the function ARN in its Resource, or, for a Task that waits for a
 * task token (`arn:aws:states:::lambda:invoke.waitForTaskToken`), in its Parameters' FunctionName.
 */
function stepOfState(
  definition: Json,
  pipeline: RolloutPipeline,
  stack: Stack,
  environment: SimulatedEnvironment,
): Map<string, StepFunctionName> {
  const stepOfArn = new Map<string, StepFunctionName>(
    STEP_FUNCTIONS.map((step) => [
      lambdaArnFor(environment, stack.getLogicalId(pipeline.functions[step].node.defaultChild as CfnFunction)),
      step,
    ]),
  );
  const steps = new Map<string, StepFunctionName>();
  for (const [name, state] of Object.entries<Json>(definition.States)) {
    const functionArn = isTokenTask(state) ? state.Parameters?.FunctionName : state.Resource;
    const step = state.Type === 'Task' ? stepOfArn.get(functionArn) : undefined;
    if (step) steps.set(name, step);
  }
  return steps;
}

/** Each step function's timeout and environment, and (when bundled into `assemblyDirectory`) its staged bundle. */
function functionSettings(
  synthesized: SynthesizedStack,
  pipeline: RolloutPipeline,
  assemblyDirectory: string | undefined,
): Pick<SynthesizedPipeline, 'timeoutSecondsOf' | 'environmentOf' | 'bundleOf'> {
  const functionOf = (step: StepFunctionName) => synthesized.resourceOf(pipeline.functions[step]);
  const perStep = <T>(value: (step: StepFunctionName) => T) =>
    Object.fromEntries(STEP_FUNCTIONS.map((step) => [step, value(step)])) as Record<StepFunctionName, T>;
  return {
    timeoutSecondsOf: perStep((step) => functionOf(step).Properties.Timeout ?? 3),
    environmentOf: perStep(
      (step) => synthesized.resolve(functionOf(step).Properties.Environment?.Variables ?? {}) as Record<string, string>,
    ),
    // The default synthesizer stages a file asset `<hash>.zip` as the assembly's folder `asset.<hash>`.
    bundleOf: assemblyDirectory
      ? perStep((step) => `${assemblyDirectory}/asset.${String(functionOf(step).Properties.Code.S3Key).replace(/\.zip$/, '')}`)
      : undefined,
  };
}

/** The stack's rules that target an alert topic, with the severities of the topics they target. */
function alertRules({ stack, template, resolve }: SynthesizedStack, alerts: AlertRouting): AlertRule[] {
  const severityOfTopic = new Map<string, Severity>(
    (Object.entries(alerts.topics) as [Severity, { node: { defaultChild: unknown } }][]).map(([severity, topic]) => [
      stack.getLogicalId(topic.node.defaultChild as never),
      severity,
    ]),
  );
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([name, r]) => ({
      name,
      // A rule only sees the events of its own bus (EventBusName: the bus's name; the default bus when absent).
      bus: r.Properties.EventBusName ? (resolve(r.Properties.EventBusName) as string) : 'default',
      pattern: resolve(r.Properties.EventPattern),
      severities: (r.Properties.Targets ?? [])
        .map((t: Json) => severityOfTopic.get(t.Arn?.Ref))
        .filter((s: Severity | undefined): s is Severity => s !== undefined),
    }))
    .filter((rule) => rule.severities.length > 0);
}
