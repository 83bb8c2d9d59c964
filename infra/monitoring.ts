/**
 * The seed's monitoring, for Triggers: an SNS topic, the alarm "more than 3 errors in 5 minutes"
 * on each dispatcher function plus the same threshold on failed (dead-lettered) deliveries, one
 * more on the scheduled dispatcher for a run failing every time (which that threshold misses), and
 * a dashboard with the seed's two widget groups — event processing (processed, successful,
 * failed) and performance (latency, retries) — read from the EMF metrics the dispatcher writes.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** The seed's five dispatcher metrics, published without dimensions in the configured namespace. */
export const DISPATCHER_METRICS = {
  processed: 'EventsProcessed',
  succeeded: 'SuccessfulDeliveries',
  failed: 'FailedDeliveries',
  latency: 'DeliveryLatency',
  retries: 'RetryAttempts',
} as const;

/** The seed's alarm: more than this many in one period. */
export const ALARM_THRESHOLD = 3;
export const ALARM_PERIOD = Duration.minutes(5);
/**
 * The scheduled dispatcher failing in this many 5-minute periods in a row. At the default
 * rate(5 minutes), a run that fails is one invocation plus Lambda's two retries: 3 errors, never
 * more than 3, so a dispatcher broken on every run would never cross the seed's threshold.
 */
export const FAILING_PERIODS = 3;

export interface MonitoringProps {
  namespace: string;
  dashboardName: string;
  /** Each gets an Errors alarm; the first is the scheduled dispatcher. */
  dispatchers: { id: string; fn: lambda.IFunction }[];
  alarmEmail: string | undefined;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Triggers alarms' });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const metric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: props.namespace, metricName, statistic, label, period: ALARM_PERIOD });

    const alarm = (
      alarmId: string,
      description: string,
      watched: cloudwatch.IMetric,
      rule: { threshold: number; operator: cloudwatch.ComparisonOperator; periods: number } = {
        threshold: ALARM_THRESHOLD,
        operator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        periods: 1,
      },
    ) => {
      const created = new cloudwatch.Alarm(scope, alarmId, {
        alarmDescription: description,
        metric: watched,
        threshold: rule.threshold,
        comparisonOperator: rule.operator,
        evaluationPeriods: rule.periods,
        datapointsToAlarm: rule.periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    for (const { id: fnId, fn } of props.dispatchers) {
      alarm(
        `${fnId}ErrorAlarm`,
        `Triggers ${fnId}: more than ${ALARM_THRESHOLD} invocation errors in 5 minutes`,
        fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
      );
    }
    const scheduled = props.dispatchers[0];
    if (scheduled) {
      alarm(
        `${scheduled.id}FailingAlarm`,
        `Triggers ${scheduled.id}: invocation errors in each of ${FAILING_PERIODS} 5-minute periods in a row (failing on every run)`,
        scheduled.fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
        { threshold: 1, operator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, periods: FAILING_PERIODS },
      );
    }
    alarm(
      'FailedDeliveriesAlarm',
      `Triggers: more than ${ALARM_THRESHOLD} failed (dead-lettered) deliveries in 5 minutes`,
      new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: DISPATCHER_METRICS.failed,
        statistic: 'Sum',
        period: ALARM_PERIOD,
      }),
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Event Processing',
        width: 12,
        left: [
          metric(DISPATCHER_METRICS.processed, 'Sum', 'Events processed'),
          metric(DISPATCHER_METRICS.succeeded, 'Sum', 'Successful deliveries'),
          metric(DISPATCHER_METRICS.failed, 'Sum', 'Failed deliveries'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Performance',
        width: 12,
        left: [
          metric(DISPATCHER_METRICS.latency, 'Average', 'Delivery latency (avg, ms)'),
          metric(DISPATCHER_METRICS.latency, 'p99', 'Delivery latency (p99, ms)'),
        ],
        right: [metric(DISPATCHER_METRICS.retries, 'Sum', 'Retry attempts')],
      }),
    );
  }
}
