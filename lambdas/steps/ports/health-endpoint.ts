/**
 * The canary tasks' health endpoint, as the gray release's probe uses it. Declared here, where it is used;
 * `adapters/health-endpoint.ts` implements it with HTTP.
 */
import type { ProbeSettings } from '../../contract/release-strategy';
import type { ProbeAttempt } from '../../decisions/health-probe';

export interface HealthEndpoint {
  /** `settings.attempts` GET requests to `http://<address>:<settings.port><settings.path>`, one after the other. */
  probe(address: string, settings: ProbeSettings): Promise<ProbeAttempt[]>;
}
