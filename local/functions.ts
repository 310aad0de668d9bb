/**
 * The functions as the local run builds them: each one's wiring (lambdas/wiring/), exactly as its Lambda entry uses
 * it, on the simulated account's clients acting as the function's role (every call authorized against the synthesized
 * policies, refused as AWS would), the local ledger and the simulated clock; the tasks' health endpoints as the simulated
 * account's tasks answer them (local/simulated/health-endpoints.ts).
 */
import { wireAwaitHealth } from '../lambdas/wiring/await-health';
import type { FunctionClients, FunctionSettings } from '../lambdas/wiring/clients';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { wireAnalyseStep } from '../lambdas/wiring/analyse-step';
import { wireAwaitOperator } from '../lambdas/wiring/await-operator';
import { wireProbeCanary } from '../lambdas/wiring/probe-canary';
import { wireCheckHealth } from '../lambdas/wiring/check-health';
import { wireCheckRelease } from '../lambdas/wiring/check-release';
import { wireFinaliseExecution } from '../lambdas/wiring/finalise-execution';
import { wireReconcile } from '../lambdas/wiring/reconcile';
import { wireRecordOutcome } from '../lambdas/wiring/record-outcome';
import { wireRecordRelease } from '../lambdas/wiring/record-release';
import { wireRegisterRevision } from '../lambdas/wiring/register-revision';
import { wireSteerTraffic } from '../lambdas/wiring/steer-traffic';
import { wireTakeLock } from '../lambdas/wiring/take-lock';
import { wireUpdateService } from '../lambdas/wiring/update-service';
import { wireVerifySignature } from '../lambdas/wiring/verify-signature';
import type { ServiceCatalog } from '../lambdas/contract/catalog';
import { STEP_FUNCTIONS, type StepFunctionName } from '../lib/state-names';
import { describingStepFunctions } from './execution-names';
import { authorizing, clientsAs } from './iam/authorize';
import type { PrincipalName } from './iam/policies';
import type { LocalWorld } from './workflow';

type Json = any;
export type StepHandler = (input: Json) => Promise<Json>;
type Sender = { send: (command: any) => Promise<any> };

/** Each step function's wiring, by its name. */
const STEP_WIRING: Record<StepFunctionName, (clients: FunctionClients, settings: FunctionSettings) => StepHandler> = {
  'check-release': wireCheckRelease,
  'record-release': wireRecordRelease,
  'verify-signature': wireVerifySignature,
  'take-lock': wireTakeLock,
  'register-revision': wireRegisterRevision,
  'update-service': wireUpdateService,
  'check-health': wireCheckHealth,
  'await-health': wireAwaitHealth,
  'steer-traffic': wireSteerTraffic,
  'analyse-step': wireAnalyseStep,
  'await-operator': wireAwaitOperator,
  'probe-canary': wireProbeCanary,
  'record-outcome': wireRecordOutcome,
};

/** A Step Functions client for a function that never calls it. */
const NO_STEP_FUNCTIONS: Sender = {
  send: async (command: unknown) => {
    throw new Error(`This function does not call Step Functions (${(command as object).constructor.name})`);
  },
};

/**
 * The clients a function gets, each acting as `principal`: the simulated account's (retrying as the SDK does), the
 * ledger's document client, and `stepFunctions` (the local Step Functions, as far as the function uses it).
 */
function functionClients(world: LocalWorld, principal: PrincipalName, stepFunctions: Sender = NO_STEP_FUNCTIONS): FunctionClients {
  const { ecs, ecr, cloudwatch, kms, signer, elbv2 } = clientsAs(world, principal);
  return {
    ecs,
    elbv2,
    ecr,
    cloudwatch,
    kms,
    signer,
    sfn: authorizing(world, principal, stepFunctions),
    ledger: authorizing(world, principal, world.ledgerTable.documentClient),
    fetchBlob: world.account.fetchBlob,
    // The tasks' HTTP endpoints, reached inside the VPC (no IAM: the probe's security group is its permission).
    healthEndpoint: { get: world.account.services.healthEndpoints.get, now: world.account.services.healthEndpoints.now },
  };
}

/** What the functions read from their environment, as the local world has it, and the simulated clock. */
function functionSettings(world: LocalWorld): FunctionSettings {
  const { pipeline, account, ledgerTable } = world;
  return {
    clock: account.clock,
    catalog: pipeline.catalog,
    ledgerTableName: ledgerTable.tableName,
    stateMachineArn: pipeline.stateMachineArn,
    signerRootCertificates: pipeline.signerRootCertificates,
  };
}

/** The step handlers for one execution (each built afresh, as for a new container), `overrides` taking their steps' place. */
export function localStepHandlers(
  world: LocalWorld,
  overrides: Partial<Record<StepFunctionName, StepHandler>> = {},
): Record<StepFunctionName, StepHandler> {
  const settings = functionSettings(world);
  const handlers = STEP_FUNCTIONS.map((step) => [
    step,
    overrides[step] ??
      STEP_WIRING[step](functionClients(world, step, step === 'await-health' ? taskTokenAnswers(world) : undefined), settings),
  ]);
  return Object.fromEntries(handlers);
}

/** The local Step Functions as the health wait reaches it: it answers task tokens (SendTaskSuccess, SendTaskFailure). */
function taskTokenAnswers(world: LocalWorld): Sender {
  return {
    send: async (command: unknown) => {
      if (command instanceof SendTaskSuccessCommand) return world.tokens.sendTaskSuccess(command.input);
      if (command instanceof SendTaskFailureCommand) return world.tokens.sendTaskFailure(command.input);
      throw new Error(`The health wait does not call ${(command as object).constructor.name}`);
    },
  };
}

/** The health wait as its EventBridge rules invoke it (an ECS deployment or alarm event). */
export function localHealthWake(world: LocalWorld): StepHandler {
  return wireAwaitHealth(functionClients(world, 'await-health', taskTokenAnswers(world)), functionSettings(world));
}

/** The crash finaliser, confirming an execution's end with the local Step Functions. */
export function localFinaliser(world: LocalWorld) {
  return wireFinaliseExecution(functionClients(world, 'finalise-execution', describingStepFunctions(world)), functionSettings(world));
}

/** The scheduled reconciliation of `catalog`, starting executions through `stepFunctions`. */
export function localReconciliation(world: LocalWorld, stepFunctions: Sender, catalog: ServiceCatalog) {
  return wireReconcile(functionClients(world, 'reconcile', stepFunctions), { ...functionSettings(world), catalog });
}
