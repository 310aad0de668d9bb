import { describe, expect, it } from 'vitest';
import { deploymentKey } from '../../lambdas/adapters/ledger-items';
import { executionArn, SERVICE } from '../fixtures/ledger-adapter';

describe('deploymentKey', () => {
  it('sorts a service’s deployments by arrival, told apart by execution name', () => {
    expect(deploymentKey(SERVICE, '2026-11-02T10:00:00.000Z', executionArn('push-1'))).toEqual({
      service: SERVICE,
      sk: 'DEPLOYMENT#2026-11-02T10:00:00.000Z#push-1',
    });
  });
});
