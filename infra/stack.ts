/**
 * Triggers on AWS: the events table, the API function behind a function URL, the dispatcher on
 * an EventBridge schedule (and, as an option, on the table's stream), the settings secret in the
 * seed's JSON shape, and the seed's alarm and dashboard. Outputs carry the seed's names.
 *
 *   function URL ─► Api ──────────────┐            EventBridge rate(5 minutes) ─► Dispatcher ─┐
 *                                     ├─► table ◄──────────────────────────────────────────────┤
 *   table stream (INSERT, option) ─► DispatcherStream ───────────────────────────────────────-┘
 *   every function reads the secret (TRIGGERS_SECRET_ARN); dispatchers POST to webhook URLs.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { Monitoring } from './monitoring.js';
import { DEFAULT_SETTINGS, type TriggersSettings } from './settings.js';
import { eventsTable } from './table.js';

/** Handler names in the built package (src/lambda/, see docs/lambda.md). */
export const HANDLERS = {
  api: 'dist/lambda/api.handler',
  scheduled: 'dist/lambda/dispatcher.scheduledHandler',
  stream: 'dist/lambda/dispatcher.streamHandler',
} as const;

const RUNTIMES = {
  'nodejs20.x': lambda.Runtime.NODEJS_20_X,
  'nodejs22.x': lambda.Runtime.NODEJS_22_X,
  'nodejs24.x': lambda.Runtime.NODEJS_24_X,
} as const;

/**
 * What the functions do with the table (the DynamoDB store's commands, transactions included,
 * which IAM authorizes per item action). Not `grantReadWriteData`: that adds Scan, which
 * nothing runs, and stream reads, which only the stream's event source needs (granted by it).
 */
const TABLE_DATA_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/** Request headers the API reads, and response headers a browser may see, for CORS. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'x-api-key', 'idempotency-key'];
const CORS_EXPOSED_HEADERS = ['x-next-cursor', 'retry-after'];

export interface TriggersStackProps extends StackProps, Partial<Omit<TriggersSettings, 'stackName'>> {
  /** The Lambda package (lambdaPackage.ts's lambdaCode in the app; a stub in tests). */
  code: lambda.Code;
}

export class TriggersStack extends Stack {
  constructor(scope: Construct, id: string, props: TriggersStackProps) {
    super(scope, id, props);
    const settings: Omit<TriggersSettings, 'stackName'> = { ...DEFAULT_SETTINGS, ...definedOnly(props) };

    const table = eventsTable(this, 'EventsTable');

    // The seed's secret: jwt_secret generated here; the API key, webhook URL and signing secret
    // are set after deploy (docs/aws.md) so they never pass through the template.
    const secret = new secretsmanager.Secret(this, 'ApiSecret', {
      description: 'Triggers settings (zapier_api_key, zapier_webhook_url, jwt_secret, webhook_secret)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ zapier_api_key: '', zapier_webhook_url: '', webhook_secret: '' }),
        generateStringKey: 'jwt_secret',
        passwordLength: 48,
        excludePunctuation: true,
      },
    });

    const environment = {
      TRIGGERS_DATABASE_URL: `dynamodb://${table.tableName}`,
      TRIGGERS_SECRET_ARN: secret.secretArn,
      TRIGGERS_MAX_EVENTS_PER_RUN: String(settings.maxEventsPerRun),
      TRIGGERS_METRICS_NAMESPACE: settings.metricsNamespace,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const architecture = settings.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const fn = (fnId: string, description: string, handler: string, memorySize: number, timeout: Duration) => {
      const logGroup = new logs.LogGroup(this, `${fnId}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // A role of its own instead of CDK's default, whose AWSLambdaBasicExecutionRole lets a
      // function create and write any log group in the account: this one writes its own only.
      const role = new iam.Role(this, `${fnId}ServiceRole`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      logGroup.grantWrite(role);
      return new lambda.Function(this, fnId, {
        description,
        runtime: RUNTIMES[settings.runtime],
        architecture,
        code: props.code,
        handler,
        memorySize,
        timeout,
        environment,
        role,
        logGroup,
      });
    };

    const api = fn('ApiFunction', 'Triggers HTTP API', HANDLERS.api, 512, Duration.seconds(30));
    table.grant(api, ...TABLE_DATA_ACTIONS);
    secret.grantRead(api);
    // Auth NONE: the API checks its own JWTs and API keys on every protected route.
    const url = api.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      cors: {
        allowedOrigins: settings.corsOrigins,
        allowedMethods: [lambda.HttpMethod.ALL],
        allowedHeaders: CORS_REQUEST_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
        maxAge: Duration.hours(1),
      },
    });

    // The seed's dispatcher: 256 MB, 5 minutes, on a schedule with 2 retry attempts.
    const dispatcher = fn('DispatcherFunction', 'Triggers dispatcher (scheduled)', HANDLERS.scheduled, 256, Duration.minutes(5));
    table.grant(dispatcher, ...TABLE_DATA_ACTIONS);
    secret.grantRead(dispatcher);
    const rule = new events.Rule(this, 'DispatcherScheduleRule', {
      description: 'Runs the Triggers dispatcher',
      schedule: events.Schedule.expression(settings.schedule),
      targets: [new targets.LambdaFunction(dispatcher, { retryAttempts: 2 })],
    });

    const dispatchers: { id: string; fn: lambda.IFunction }[] = [{ id: 'Dispatcher', fn: dispatcher }];
    if (settings.streams) {
      // Woken by inserted items (new events and their deliveries) within a second or so; the
      // schedule stays on for retries, whose time comes without a write. A failed record is
      // retried by itself (bisect, partial batch response), and dropped after that: the
      // delivery is in the table either way and the next scheduled run takes it.
      const streamDispatcher = fn(
        'DispatcherStreamFunction',
        'Triggers dispatcher (DynamoDB stream)',
        HANDLERS.stream,
        256,
        Duration.minutes(5),
      );
      table.grant(streamDispatcher, ...TABLE_DATA_ACTIONS);
      secret.grantRead(streamDispatcher);
      streamDispatcher.addEventSource(
        new sources.DynamoEventSource(table, {
          startingPosition: lambda.StartingPosition.LATEST,
          batchSize: settings.streamBatchSize,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          retryAttempts: 3,
          maxRecordAge: Duration.hours(1),
          filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
        }),
      );
      dispatchers.push({ id: 'DispatcherStream', fn: streamDispatcher });
    }

    const monitoring = new Monitoring(this, 'Monitoring', {
      namespace: settings.metricsNamespace,
      dashboardName: this.stackName,
      dispatchers,
      alarmEmail: settings.alarmEmail,
    });

    new CfnOutput(this, 'DispatcherFunctionArn', { value: dispatcher.functionArn });
    new CfnOutput(this, 'DispatcherScheduleRuleName', { value: rule.ruleName });
    new CfnOutput(this, 'ApiUrl', { value: url.url });
    new CfnOutput(this, 'ApiSecretArn', { value: secret.secretArn });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${monitoring.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn });
  }
}

/** Props with their undefined members dropped, so they do not hide the defaults. */
function definedOnly<T extends object>(props: T): Partial<T> {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as Partial<T>;
}
