/**
 * Decides each request as IAM would, with @cloud-copilot/iam-simulate (AGPL-3.0: a devDependency that only local/ and
 * test/ import, never a Lambda bundle or the stack), and refuses it the way AWS does: an error shaped like the SDK's,
 * with AWS's message ("User: <session> is not authorized to perform: <action> on resource: <arn> because no
 * identity-based policy allows the <action> action"; IAM User Guide, "Troubleshoot access denied error messages").
 *
 * Identity policies of the calling role decide, except for KMS keys, whose key policy must also allow the call (KMS
 * developer guide, "Key policies"): the stack's keys have their synthesized key policy; keys outside the stack (the
 * signing keys a configuration names) are assumed to keep KMS's default key policy, which defers to IAM. A function's
 * resource policy (its Lambda permissions) decides when EventBridge invokes it for a rule.
 * The policy of the VPC endpoint a function's call goes through is evaluated too (the stack's own interface endpoints).
 * Not modelled: SCPs, RCPs, permission boundaries, session policies, the policies of endpoints the VPC already had.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AccountPolicies, PolicyDocument, PrincipalName } from './policies';
import type { AuthorizationRequest } from './requests';

export type Verdict = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Decision {
  verdict: Verdict;
  /** The policy type that denied it: AWS names it in the message. */
  deniedBy?: 'identity-based' | 'resource-based' | 'VPC endpoint';
}

export interface Denial {
  principal: PrincipalName;
  request: AuthorizationRequest;
  message: string;
}

/** How much authorizing cost, for the whole process (all worlds): checks made, of which evaluated (not cached), and time. */
export const iamStatistics = { checks: 0, evaluations: 0, evaluationMilliseconds: 0 };

/** KMS's default key policy: the account's IAM policies decide (KMS developer guide, "Default key policy"). */
const defaultKeyPolicy = (account: string, partition: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
});

const caches = new WeakMap<AccountPolicies, Map<string, Promise<Decision>>>();

/** The decision for one request, cached per (principal, action, resource, context) for these policies. */
export function decide(policies: AccountPolicies, principal: PrincipalName, request: AuthorizationRequest): Promise<Decision> {
  iamStatistics.checks++;
  let cache = caches.get(policies);
  if (!cache) caches.set(policies, (cache = new Map()));
  const context = Object.entries(request.context).sort(([a], [b]) => a.localeCompare(b));
  const key = JSON.stringify([principal, request.action, request.resource, context]);
  let decision = cache.get(key);
  if (!decision) {
    decision = evaluate(policies, principal, request);
    cache.set(key, decision);
  }
  return decision;
}

async function evaluate(policies: AccountPolicies, principalName: PrincipalName, request: AuthorizationRequest): Promise<Decision> {
  const started = performance.now();
  iamStatistics.evaluations++;
  const principal = policies.principals[principalName];
  const { account, partition } = policies.env;
  const resourceAccount = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(request.resource)?.[1] ?? account;
  const isKey = /^arn:[^:]+:kms:[^:]*:\d{12}:key\//.test(request.resource);
  const resourcePolicy = isKey
    ? (policies.keyPolicies.get(request.resource) ?? defaultKeyPolicy(resourceAccount, partition))
    : (policies.functionPolicies.get(request.resource) ?? policies.busPolicies.get(request.resource));
  // A function's own calls leave the VPC through the service's endpoint; what another service asks on its behalf (KMS
  // through DynamoDB or SQS, kms:ViaService) does not pass any endpoint of the VPC. (Signer's GetRevocationStatus goes
  // to its data-plane host, which the `signer` endpoint may not serve: checking it there is stricter, never looser.)
  const throughEndpoint = principalName in policies.functionArns && !('kms:ViaService' in request.context);
  const endpointPolicy = throughEndpoint ? policies.endpointPolicies.get(request.action.split(':')[0]!) : undefined;
  const result = await runSimulation(
    {
      request: {
        principal: principal.sessionArn,
        action: request.action,
        // A resource of another account (a vendor's signing profile) is evaluated as the caller's own: its resource
        // policy is not known here.
        resource: { resource: request.resource, accountId: isKey ? resourceAccount : account },
        // A role's requests carry the role's ARN as aws:PrincipalArn, not the session's ("For IAM roles, the request
        // context returns the ARN of the role": IAM user guide, AWS global condition context keys).
        contextVariables: principal.roleArn ? { 'aws:PrincipalArn': principal.roleArn, ...request.context } : request.context,
      },
      identityPolicies: principal.identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      // The functions run in the VPC: their calls go through the service's endpoint, whose policy must allow them too.
      vpcEndpointPolicies: endpointPolicy ? [{ name: 'endpoint', policy: endpointPolicy }] : undefined,
    },
    {},
  );
  iamStatistics.evaluationMilliseconds += performance.now() - started;
  if (result.resultType === 'error') {
    throw new Error(`The local run's IAM could not evaluate ${request.action} on ${request.resource}: ${result.errors.message}`);
  }
  return decisionOf(result, principal.identityPolicies.length === 0, resourcePolicy !== undefined);
}

/** Allowed, or which kind of policy denied the request, as AWS's AccessDenied message names it. */
function decisionOf(
  result: Exclude<Awaited<ReturnType<typeof runSimulation>>, { resultType: 'error' }>,
  serviceRequest: boolean,
  hasResourcePolicy: boolean,
): Decision {
  const verdict = result.overallResult;
  if (verdict === 'Allowed') return { verdict };
  if (result.resultType !== 'single') return { verdict, deniedBy: 'identity-based' };
  const analysis = result.result.analysis as {
    identityAnalysis?: { result: string };
    resourceAnalysis?: { result: string };
    endpointAnalysis?: { result: string };
  };
  if (analysis.endpointAnalysis && analysis.endpointAnalysis.result !== 'Allowed') return { verdict, deniedBy: 'VPC endpoint' };
  const identityAllows = analysis.identityAnalysis?.result === 'Allowed';
  const resourceDenies =
    analysis.resourceAnalysis?.result === 'ExplicitlyDenied' || analysis.resourceAnalysis?.result === 'DeniedForAccount';
  // A service principal has no identity policies: only the resource policy could have allowed it.
  return {
    verdict,
    deniedBy: hasResourcePolicy && (identityAllows || resourceDenies || serviceRequest) ? 'resource-based' : 'identity-based',
  };
}

/** AWS's AccessDenied message for a denied request. */
export function denialMessage(
  policies: AccountPolicies,
  principal: PrincipalName,
  request: AuthorizationRequest,
  decision: Decision,
): string {
  const who = `User: ${policies.principals[principal].sessionArn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  const kind = decision.deniedBy ?? 'identity-based';
  const article = kind === 'identity-based' ? 'an identity-based' : kind === 'resource-based' ? 'a resource-based' : 'a VPC endpoint';
  return decision.verdict === 'ExplicitlyDenied'
    ? `${who} with an explicit deny in ${article} policy`
    : `${who} because no ${kind} policy allows the ${request.action} action`;
}

/** The first request of `requests` that is denied, or undefined when all are allowed (each one must be). */
export async function firstDenial(
  policies: AccountPolicies,
  principal: PrincipalName,
  requests: AuthorizationRequest[],
): Promise<Denial | undefined> {
  for (const request of requests) {
    const decision = await decide(policies, principal, request);
    if (decision.verdict !== 'Allowed') return { principal, request, message: denialMessage(policies, principal, request, decision) };
  }
  return undefined;
}
