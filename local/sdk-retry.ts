/**
 * The AWS SDK's retries, as the functions' clients make them: each is created with the SDK's defaults (`new
 * ECSClient({})`), so the standard retry mode applies — up to 3 attempts in all, retrying throttling and transient
 * errors (throttling codes and 429; TimeoutError, 500/502/503/504, connection resets) and nothing else
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html; the classification is @smithy/core's,
 * the very functions the SDK calls). The local run's clients are plain `send` functions, so without this a single
 * throttle would reach the handler where in AWS the SDK would have absorbed it. Each attempt is a request of its own:
 * authorized, answered and recorded again. The backoff between attempts (at most seconds) is not simulated.
 */
import { isThrottlingError, isTransientError } from '@smithy/core/retry';

/** DEFAULT_MAX_ATTEMPTS of the SDK's standard retry strategy. */
export const SDK_MAX_ATTEMPTS = 3;

type Sender = { send: (command: any) => Promise<any> };

export function retryingAsTheSdk<T extends Sender>(client: T): T {
  const send = async (command: unknown) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.send(command);
      } catch (error) {
        const retryable = isThrottlingError(error as never) || isTransientError(error as never);
        if (!retryable || attempt >= SDK_MAX_ATTEMPTS) {
          // As the SDK does: the error says how many attempts were made.
          const metadata = (error as { $metadata?: { attempts?: number } }).$metadata;
          if (metadata) metadata.attempts = attempt;
          throw error;
        }
      }
    }
  };
  return { send } as unknown as T;
}
