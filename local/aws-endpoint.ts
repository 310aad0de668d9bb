/**
 * Serves a SimulatedAccount over HTTP in the AWS wire protocols the pipeline uses (ECR, KMS and ECS: JSON 1.1 with
 * X-Amz-Target; CloudWatch: JSON 1.0 with X-Amz-Target; Signer: REST-JSON), plus the layer download URLs ECR hands
 * out. Point the real AWS SDK at it with AWS_ENDPOINT_URL and `model-rollout verify` runs end to end, as a user would
 * run it, without an AWS account; so do the bundled Lambda functions in the workflow test of the bundles.
 *
 * With `iam`, a request signed with an access key ID that names a role of the stack (the functions' step names) is
 * authorized as that role first, exactly as the local run authorizes the handlers built from source; others (an
 * operator running the CLI) are answered unauthorized, as the operator's own IAM is not the stack's to model.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BatchGetImageCommand,
  DescribeImageSigningStatusCommand,
  DescribeRepositoriesCommand,
  GetDownloadUrlForLayerCommand,
  ListImageReferrersCommand,
} from '@aws-sdk/client-ecr';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';
import { authorizing, type IamWorld } from './iam/authorize';
import type { PrincipalName } from './iam/policies';
import type { SimulatedAccount } from './simulated-account';

type CommandClass = new (input: any) => unknown;

/** X-Amz-Target → the SDK command the simulated account answers, and which of its clients answers it. */
const JSON_OPERATIONS: Record<string, { command: CommandClass; client: 'ecr' | 'kms' | 'ecs' | 'cloudwatch' }> = {
  'AmazonEC2ContainerRegistry_V20150921.BatchGetImage': { command: BatchGetImageCommand, client: 'ecr' },
  'AmazonEC2ContainerRegistry_V20150921.GetDownloadUrlForLayer': { command: GetDownloadUrlForLayerCommand, client: 'ecr' },
  'AmazonEC2ContainerRegistry_V20150921.ListImageReferrers': { command: ListImageReferrersCommand, client: 'ecr' },
  'AmazonEC2ContainerRegistry_V20150921.DescribeImageSigningStatus': { command: DescribeImageSigningStatusCommand, client: 'ecr' },
  'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories': { command: DescribeRepositoriesCommand, client: 'ecr' },
  'TrentService.GetPublicKey': { command: GetPublicKeyCommand, client: 'kms' },
  'AmazonEC2ContainerServiceV20141113.DescribeServices': { command: DescribeServicesCommand, client: 'ecs' },
  'AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition': { command: DescribeTaskDefinitionCommand, client: 'ecs' },
  'AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition': { command: RegisterTaskDefinitionCommand, client: 'ecs' },
  'AmazonEC2ContainerServiceV20141113.UpdateService': { command: UpdateServiceCommand, client: 'ecs' },
  'AmazonEC2ContainerServiceV20141113.DescribeServiceDeployments': { command: DescribeServiceDeploymentsCommand, client: 'ecs' },
  // CloudWatch speaks JSON 1.0 (the SDK's AwsJson1_0Protocol, target GraniteServiceVersion20100801).
  'GraniteServiceVersion20100801.DescribeAlarms': { command: DescribeAlarmsCommand, client: 'cloudwatch' },
};

export interface AwsEndpoint {
  /** e.g. `http://127.0.0.1:41234`: the value for AWS_ENDPOINT_URL. */
  url: string;
  close: () => Promise<void>;
}

export interface EndpointIam {
  world: IamWorld;
  /** The role a request's access key ID stands for; null: not one of the stack's (answered unauthorized). */
  principalOf: (accessKeyId: string) => PrincipalName | null;
}

/** Starts the endpoint on a free loopback port. */
export async function serveSimulatedAccount(account: SimulatedAccount, iam?: EndpointIam): Promise<AwsEndpoint> {
  let url = '';
  const server: Server = createServer((request, response) => {
    handle(account, url, request, response, iam).catch((error: Error) => {
      respond(response, 500, { __type: 'InternalFailure', message: error.message });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

async function handle(
  account: SimulatedAccount,
  url: string,
  request: IncomingMessage,
  response: ServerResponse,
  iam?: EndpointIam,
): Promise<void> {
  const body = await readBody(request);
  // SigV4: `Authorization: AWS4-HMAC-SHA256 Credential=<access key ID>/<date>/<region>/<service>/aws4_request, …`.
  const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
  const principal = iam && accessKeyId ? iam.principalOf(accessKeyId) : null;
  const clientOf = (name: 'ecr' | 'kms' | 'ecs' | 'cloudwatch' | 'signer') =>
    principal ? authorizing(iam!.world, principal, account[name]) : account[name];
  const target = request.headers['x-amz-target'];
  const path = new URL(request.url ?? '/', url);

  if (request.method === 'GET' && path.pathname.startsWith('/blobs/')) {
    const blob = await account.fetchBlob(decodeURIComponent(path.pathname.slice('/blobs/'.length)));
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
    response.end(Buffer.from(blob));
    return;
  }
  if (typeof target === 'string' && JSON_OPERATIONS[target]) {
    const { command, client } = JSON_OPERATIONS[target];
    await answer(
      response,
      () => clientOf(client).send(new command(JSON.parse(body || '{}'))),
      (output) =>
        // Layers are downloaded from URLs ECR returns: hand out ones that lead back here.
        target.endsWith('GetDownloadUrlForLayer')
          ? { ...output, downloadUrl: `${url}/blobs/${encodeURIComponent(output.downloadUrl)}` }
          : output,
    );
    return;
  }
  if (request.method === 'GET' && path.pathname === '/revocations') {
    const query = path.searchParams;
    const input = {
      signatureTimestamp: new Date(query.get('signatureTimestamp') ?? ''),
      platformId: query.get('platformId') ?? undefined,
      profileVersionArn: query.get('profileVersionArn') ?? undefined,
      jobArn: query.get('jobArn') ?? undefined,
      certificateHashes: query.getAll('certificateHashes'),
    };
    await answer(
      response,
      () => clientOf('signer').send(new GetRevocationStatusCommand(input)),
      (output) => output,
    );
    return;
  }
  respond(response, 400, {
    __type: 'UnknownOperationException',
    message: `${request.method} ${request.url} (target ${String(target)}) is not simulated`,
  });
}

async function answer(response: ServerResponse, call: () => Promise<any>, shape: (output: any) => any): Promise<void> {
  let output: any;
  try {
    output = await call();
  } catch (error) {
    const name = (error as Error).name;
    // The status AWS answers with, as the simulated error (or IAM's refusal) carries it.
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 400;
    respond(response, status, { __type: name, message: (error as Error).message }, name);
    return;
  }
  respond(response, 200, shape(output ?? {}));
}

function respond(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const json = JSON.stringify(body, function (this: Record<string, unknown>, key, value) {
    // JSON protocols carry blobs as base64 and timestamps as epoch seconds (`this[key]` is the value before toJSON).
    const original = this[key];
    if (original instanceof Uint8Array) return Buffer.from(original).toString('base64');
    if (original instanceof Date) return original.getTime() / 1000;
    return value;
  });
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(json);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
