import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LEDGER_TABLE } from '../lambdas/contract/ledger-records';
import { acknowledge } from './nag';

/**
 * The deployment ledger: one DynamoDB table holding every deployment decision, what each digest of a service is known
 * for (claimed, succeeded, quarantined) and each service's lock. On-demand (a few writes per release), point-in-time
 * recovery and deletion protection (it is the audit trail), encrypted with a customer-managed key that rotates.
 */
export class DeploymentLedgerTable extends Construct {
  public readonly table: dynamodb.Table;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the model-rollout deployment ledger',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Table, not TableV2: TableV2 cannot render a customer-managed key in a Region-agnostic stack.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: LEDGER_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Waiters hold task tokens: DynamoDB deletes them some time after their wait has ended.
      timeToLiveAttribute: LEDGER_TABLE.timeToLive,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.table,
      'NIST.800.53.R5-DynamoDBInBackupPlan',
      'The ledger is backed up continuously by point-in-time recovery (35 days) and cannot be deleted by CloudFormation or by hand (deletion protection, RETAIN); AWS Backup plans are usually assigned account-wide by tag, outside this stack.',
    );
    this.table.addGlobalSecondaryIndex({
      indexName: LEDGER_TABLE.executionIndex.name,
      partitionKey: { name: LEDGER_TABLE.executionIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
