/**
 * The ARNs of an Application Load Balancer's resources, read when a simulated ELB is told which ARNs to answer for (a
 * configuration names them). Their formats, from the Service Authorization Reference, "Resource types defined by AWS
 * Elastic Load Balancing V2"
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html):
 *
 *   loadbalancer/app/${LoadBalancerName}/${LoadBalancerId}
 *   listener/app/${LoadBalancerName}/${LoadBalancerId}/${ListenerId}
 *   listener-rule/app/${LoadBalancerName}/${LoadBalancerId}/${ListenerId}/${ListenerRuleId}
 *   targetgroup/${TargetGroupName}/${TargetGroupId}
 *
 * so a listener's ARN names its load balancer, and a rule's its listener. A load balancer's or target group's name "can
 * have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with
 * a hyphen"; a load balancer's "must not begin with internal-" (API_CreateLoadBalancer, API_CreateTargetGroup: Name).
 * The IDs are hexadecimal (16 digits in every example of the API reference; any number is accepted here, as the
 * configuration accepts it).
 */

export type ElbResourceType = 'loadbalancer' | 'listener' | 'listener-rule' | 'targetgroup';

/** An ARN read: the resource's name (its load balancer's, for a listener or rule) and the ARNs of what it sits under. */
export interface ElbArn {
  arn: string;
  name: string;
  /** The resource's own ID (the last part of the ARN). */
  id: string;
  /** A listener's or rule's load balancer. */
  loadBalancerArn?: string;
  /** A rule's listener. */
  listenerArn?: string;
}

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?';
const HEX = '[0-9a-f]+';
const SHAPES: Record<ElbResourceType, { pattern: RegExp; shape: string; what: string }> = {
  loadbalancer: {
    pattern: new RegExp(`^loadbalancer/app/(${NAME})/(${HEX})$`),
    shape: 'loadbalancer/app/<name>/<id>',
    what: "an Application Load Balancer's ARN",
  },
  listener: {
    pattern: new RegExp(`^listener/app/(${NAME})/(${HEX})/(${HEX})$`),
    shape: 'listener/app/<load-balancer-name>/<load-balancer-id>/<listener-id>',
    what: "an Application Load Balancer listener's ARN",
  },
  'listener-rule': {
    pattern: new RegExp(`^listener-rule/app/(${NAME})/(${HEX})/(${HEX})/(${HEX})$`),
    shape: 'listener-rule/app/<load-balancer-name>/<load-balancer-id>/<listener-id>/<rule-id>',
    what: "an Application Load Balancer listener rule's ARN",
  },
  targetgroup: {
    pattern: new RegExp(`^targetgroup/(${NAME})/(${HEX})$`),
    shape: 'targetgroup/<name>/<id>',
    what: "a target group's ARN",
  },
};
const ARN = /^arn:([^:]*):elasticloadbalancing:([^:]*):([^:]*):(.*)$/;

/**
 * Reads `arn` as the ARN of a `type` resource in the simulated account and region (partition `aws`).
 * @throws Error naming the ARN and the shape it should have, or the account and region it should be in
 */
export function parseElbArn(arn: string, type: ElbResourceType, home: { account: string; region: string }): ElbArn {
  const { pattern, shape, what } = SHAPES[type];
  const prefix = `arn:aws:elasticloadbalancing:${home.region}:${home.account}`;
  const parts = ARN.exec(arn);
  const resource = parts?.[1] === 'aws' ? pattern.exec(parts[4]) : null;
  if (!parts || !resource)
    throw new Error(`simulated ELB: "${arn}" is not ${what} (arn:aws:elasticloadbalancing:<region>:<account>:${shape})`);
  if (parts[2] !== home.region || parts[3] !== home.account) {
    throw new Error(
      `simulated ELB: "${arn}" is in ${parts[2]} of account ${parts[3]}, not in the simulated ${home.region} of ${home.account}`,
    );
  }
  const [, name, loadBalancerId, listenerId] = resource;
  if (type !== 'targetgroup' && name.startsWith('internal-')) {
    throw new Error(`simulated ELB: "${arn}" names the load balancer "${name}", and a load balancer's name must not begin with internal-`);
  }
  const id = resource[resource.length - 1];
  const loadBalancerArn = `${prefix}:loadbalancer/app/${name}/${loadBalancerId}`;
  if (type === 'listener') return { arn, name, id, loadBalancerArn };
  if (type === 'listener-rule')
    return { arn, name, id, loadBalancerArn, listenerArn: `${prefix}:listener/app/${name}/${loadBalancerId}/${listenerId}` };
  return { arn, name, id };
}
