import { describe, expect, it } from 'vitest';
import { AlarmMonitor } from '../../lambdas/adapters/alarm-monitor';
import { taskDefinitionArn, account, start, revision, service, serviceDeployment, update, useFreshService } from './simulated-ecs-fixture';

useFreshService();

describe('deployment alarms (deploymentConfiguration.alarms)', () => {
  const alarms = (rollback: boolean) => ({ deploymentAlarms: { alarmNames: ['sentiment-p99-latency'], rollback, bakeSeconds: 300 } });

  it('keep the service deployment IN_PROGRESS through the bake, then SUCCESSFUL with the old deployment gone', async () => {
    start(alarms(true));
    expect((await service()).deploymentConfiguration.alarms).toEqual({
      alarmNames: ['sentiment-p99-latency'],
      enable: true,
      rollback: true,
    });
    const arn = await revision('v1.3.0', { result: 'completes', settlesAfterSeconds: 60 });
    await update(arn);
    account.advance(60);

    const baking = await service();
    expect(baking.deployments).toMatchObject([
      { status: 'ACTIVE', taskDefinition: taskDefinitionArn(1), runningCount: 0, rolloutState: 'COMPLETED' },
      { status: 'PRIMARY', taskDefinition: arn, runningCount: 2 },
    ]);
    expect(await serviceDeployment()).toMatchObject({
      status: 'IN_PROGRESS',
      alarms: { status: 'MONITORING', alarmNames: ['sentiment-p99-latency'] },
    });

    account.advance(300);
    expect((await service()).deployments).toMatchObject([{ status: 'PRIMARY', taskDefinition: arn, rolloutState: 'COMPLETED' }]);
    expect(await serviceDeployment()).toMatchObject({ status: 'SUCCESSFUL' });
  });

  it('with rollback: an alarm in ALARM during the bake fails the deployment, and ECS rolls back inside the same service deployment', async () => {
    start(alarms(true));
    const arn = await revision('v1.3.0', {
      result: 'completes',
      settlesAfterSeconds: 60,
      tripsAlarm: 'sentiment-p99-latency',
      tripsAlarmAfterSeconds: 60,
    });
    await update(arn);
    const releaseDeployment = (await service()).currentServiceDeployment;
    account.advance(120);

    const rollingBack = await service();
    expect(rollingBack.currentServiceDeployment).toBe(releaseDeployment);
    expect(rollingBack.deployments).toMatchObject([
      { status: 'PRIMARY', taskDefinition: taskDefinitionArn(1), rolloutState: 'IN_PROGRESS' },
      {
        status: 'ACTIVE',
        taskDefinition: arn,
        rolloutState: 'FAILED',
        rolloutStateReason: expect.stringContaining('sentiment-p99-latency'),
      },
    ]);
    expect(await serviceDeployment()).toMatchObject({
      status: 'ROLLBACK_IN_PROGRESS',
      rollback: { reason: expect.stringContaining('deployment alarm sentiment-p99-latency') },
      alarms: { status: 'TRIGGERED', triggeredAlarmNames: ['sentiment-p99-latency'] },
      deploymentCircuitBreaker: { status: 'MONITORING' },
    });

    account.advance(60);
    expect(await serviceDeployment(releaseDeployment)).toMatchObject({ status: 'ROLLBACK_SUCCESSFUL' });
    expect((await service()).taskDefinition).toBe(taskDefinitionArn(1));
  });

  it('without rollback: the deployment fails and its service deployment stops, leaving the new revision PRIMARY', async () => {
    start(alarms(false));
    const arn = await revision('v1.3.0', {
      result: 'completes',
      settlesAfterSeconds: 60,
      tripsAlarm: 'sentiment-p99-latency',
      tripsAlarmAfterSeconds: 60,
    });
    await update(arn);
    account.advance(120);

    expect(await serviceDeployment()).toMatchObject({ status: 'STOPPED', alarms: { status: 'TRIGGERED' } });
    // Its tasks started and keep serving: nothing replaces them.
    expect((await service()).deployments.find((d: { status: string }) => d.status === 'PRIMARY')).toMatchObject({
      taskDefinition: arn,
      rolloutState: 'FAILED',
      runningCount: 2,
    });
    expect((await service()).runningCount).toBe(2);
  });

  it('an alarm that trips after the bake is the pipeline’s to notice, not ECS’s', async () => {
    start(alarms(true));
    const arn = await revision('v1.3.0', {
      result: 'completes',
      settlesAfterSeconds: 60,
      tripsAlarm: 'sentiment-p99-latency',
      tripsAlarmAfterSeconds: 400,
    });
    await update(arn);
    account.advance(500);

    expect(await serviceDeployment()).toMatchObject({ status: 'SUCCESSFUL' });
    expect((await service()).taskDefinition).toBe(arn);
  });
});

describe('the new version trips an alarm once it serves', () => {
  it('tripsAlarmAfterSeconds after the deployment completed (a late failure during the bake)', async () => {
    const monitor = new AlarmMonitor(account.cloudwatch as never);
    await update(
      await revision('v1.3.0', {
        result: 'completes',
        settlesAfterSeconds: 60,
        tripsAlarm: 'sentiment-p99-latency',
        tripsAlarmAfterSeconds: 120,
      }),
    );

    account.advance(60);
    await expect(monitor.states(['sentiment-p99-latency'])).resolves.toMatchObject([{ state: 'OK' }]);
    account.advance(119);
    await expect(monitor.states(['sentiment-p99-latency'])).resolves.toMatchObject([{ state: 'OK' }]);
    account.advance(1);
    await expect(monitor.states(['sentiment-p99-latency'])).resolves.toMatchObject([{ state: 'ALARM', since: account.clock() }]);
  });
});
