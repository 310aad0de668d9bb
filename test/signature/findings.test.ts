import { describe, expect, it } from 'vitest';
import { referenceNamesRepository } from '../../lambdas/signature/findings';

const EXPECTED = {
  digest: `sha256:${'3f'.repeat(32)}`,
  repositoryName: 'models/sentiment',
  repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/sentiment',
};

describe('referenceNamesRepository', () => {
  it.each([
    { reference: EXPECTED.repositoryUri, names: true },
    { reference: 'models/sentiment', names: true },
    { reference: `${EXPECTED.repositoryUri}:1.4.0`, names: true },
    { reference: `${EXPECTED.repositoryUri}@${EXPECTED.digest}`, names: true },
    { reference: `${EXPECTED.repositoryUri}:1.4.0@${EXPECTED.digest}`, names: true },
    { reference: 'models/sentiment:latest', names: true },
    { reference: '123456789012.dkr.ecr.us-east-1.amazonaws.com/models/other', names: false },
    { reference: '999999999999.dkr.ecr.us-east-1.amazonaws.com/models/sentiment', names: false },
    { reference: `${EXPECTED.repositoryUri}-evil`, names: false },
    { reference: 'sentiment', names: false },
    { reference: '', names: false },
  ])('$reference → $names', ({ reference, names }) => {
    expect(referenceNamesRepository(reference, EXPECTED)).toBe(names);
  });

  it('keeps a registry port, which is not a tag', () => {
    const local = { repositoryName: 'models/sentiment', repositoryUri: 'localhost:5000/models/sentiment' };

    expect(referenceNamesRepository('localhost:5000/models/sentiment', local)).toBe(true);
    expect(referenceNamesRepository('localhost:5000/models/sentiment:2.0', local)).toBe(true);
    expect(referenceNamesRepository('localhost:5001/models/sentiment', local)).toBe(false);
    expect(referenceNamesRepository('localhost/models/sentiment', local)).toBe(false);
  });
});
