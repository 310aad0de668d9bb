import { describe, expect, it } from 'vitest';
import { ConfigError, requireConcurrency, requireServices, requireSignerRoots } from '../../lib/config';
import { inRange, needsSignerRoot } from '../../lib/config/rules';
import { sentimentService } from '../fixtures/catalog';

const PROFILE = 'arn:aws:signer:eu-west-1:123456789012:/signing-profiles/ModelRelease';
const ROOT_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('inRange', () => {
  it.each([
    [1, true],
    [120, true],
    [0, false],
    [121, false],
    [7.5, false],
  ])('%s is a whole number from 1 to 120: %s', (n, expected) => {
    expect(inRange(n, { min: 1, max: 120 })).toBe(expected);
  });
});

describe('needsSignerRoot', () => {
  it('is true only for a service that trusts a signing profile', () => {
    expect(needsSignerRoot([PROFILE])).toBe(true);
    expect(needsSignerRoot([])).toBe(false);
  });
});

describe('requireServices', () => {
  it('accepts a catalog with a service', () => {
    expect(() => requireServices([sentimentService()])).not.toThrow();
  });

  it('refuses an empty catalog with a ConfigError', () => {
    expect(() => requireServices([])).toThrow(ConfigError);
    expect(() => requireServices([])).toThrow(new ConfigError('RolloutPipeline: the catalog names no service; configure at least one.'));
  });
});

describe('requireSignerRoots', () => {
  const withProfile = sentimentService({ signing: { signingProfiles: [PROFILE] } });
  const other = sentimentService({ name: 'summarizer', signing: { signingProfiles: [PROFILE] } });

  it.each([
    ['no service trusts a signing profile, and no root is given', [sentimentService()], ''],
    ['a service trusts a signing profile, and a root is given', [withProfile], ROOT_PEM],
  ])('accepts a catalog where %s', (_, catalog, roots) => {
    expect(() => requireSignerRoots(catalog, roots)).not.toThrow();
  });

  it('refuses, naming every such service, signing profiles without a root (blank counts as none)', () => {
    const message =
      'RolloutPipeline: service(s) sentiment, summarizer trust AWS Signer signing profiles, but no signerRootCertificates ' +
      'were given: Notation signatures could never verify.';
    expect(() => requireSignerRoots([withProfile, sentimentService({ name: 'plain' }), other], '')).toThrow(new ConfigError(message));
    expect(() => requireSignerRoots([withProfile, other], ' \n')).toThrow(ConfigError);
  });
});

describe('requireConcurrency', () => {
  it.each([1, 5, 1000, 'none' as const])('accepts %s', (concurrency) => {
    expect(() => requireConcurrency(concurrency)).not.toThrow();
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses %s, naming the value', (concurrency) => {
    expect(() => requireConcurrency(concurrency)).toThrow(ConfigError);
    expect(() => requireConcurrency(concurrency)).toThrow(
      new ConfigError(`RolloutPipeline: concurrencyPerFunction ${concurrency} is not a whole number of at least 1: no function could run.`),
    );
  });
});
