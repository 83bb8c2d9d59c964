/**
 * The CDK stack, synthesized once per configuration with a stub Lambda package (the real one is
 * lambdaPackage.test.ts's subject): every resource and property the AWS deployment relies on.
 * CDK's built-in CloudFormation validation is left to `npm run synth` (loading it takes ~20 s).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ALARM_THRESHOLD, DISPATCHER_METRICS, FAILING_PERIODS } from '../../infra/monitoring.js';
import { HANDLERS, TriggersStack, type TriggersStackProps } from '../../infra/stack.js';
import { tableSchema } from '../../src/store/dynamodb/schema.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stubCode(): lambda.Code {
  const dir = tempDir('triggers-stub-');
  mkdirSync(join(dir, 'dist', 'lambda'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'lambda', 'api.js'), 'export const handler = async () => ({ statusCode: 200 });\n');
  return lambda.Code.fromAsset(dir);
}

function synth(props: Omit<TriggersStackProps, 'code'>): Template {
  const app = new App({ outdir: tempDir('triggers-cdk-'), builtinCloudFormationValidation: false });
  return Template.fromStack(new TriggersStack(app, 'Triggers', { ...props, code: stubCode() }));
}

const only = (found: Record<string, Resource>): [string, Resource] => {
  const entries = Object.entries(found);
  assert.equal(entries.length, 1, `expected one resource, found ${entries.map(([id]) => id).join(', ') || 'none'}`);
  return entries[0]!;
};
const fnByHandler = (template: Template, handler: string) =>
  only(template.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } }) as Record<string, Resource>);
const idOf = (template: Template, type: string) => only(template.findResources(type) as Record<string, Resource>)[0];

/** The statements of the policy attached to a function's role. */
function statementsOf(template: Template, fn: Resource): { Action: string | string[]; Resource: unknown }[] {
  const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const [, policy] = only(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }) as Record<string, Resource>,
  );
  return (policy.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;
}
const actions = (statement: { Action: string | string[] }) => [statement.Action].flat();
const resources = (statement: { Resource: unknown }) => [statement.Resource].flat();

describe('the default stack', () => {
  let template: Template;
  let tableId: string;
  let secretId: string;
  before(() => {
    template = synth({});
    tableId = idOf(template, 'AWS::DynamoDB::Table');
    secretId = idOf(template, 'AWS::SecretsManager::Secret');
  });

  it("has the table from the store's description: keys, GSIs, PITR, TTL, NEW_IMAGE stream, retained", () => {
    const key = (name: string, KeyType: 'HASH' | 'RANGE') => ({ AttributeName: name, KeyType });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: tableSchema.billingMode,
        KeySchema: [key(tableSchema.partitionKey, 'HASH'), key(tableSchema.sortKey, 'RANGE')],
        GlobalSecondaryIndexes: tableSchema.globalIndexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [key(index.partitionKey, 'HASH'), key(index.sortKey, 'RANGE')],
          Projection: { ProjectionType: index.projection },
        })),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: tableSchema.timeToLiveAttribute, Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      },
    });
    const [, table] = only(template.findResources('AWS::DynamoDB::Table') as Record<string, Resource>);
    const defined = (table.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[])
      .map((a) => `${a.AttributeName}:${a.AttributeType}`)
      .sort();
    assert.deepEqual(defined, tableSchema.keyAttributes.map((name) => `${name}:S`).sort());
  });

  it('has two functions on Node.js 22 / arm64 with the env every function gets', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    for (const handler of [HANDLERS.api, HANDLERS.scheduled]) {
      const [, fn] = fnByHandler(template, handler);
      assert.equal(fn.Properties.Runtime, 'nodejs22.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.deepEqual((fn.Properties.Environment as { Variables: unknown }).Variables, {
        TRIGGERS_DATABASE_URL: { 'Fn::Join': ['', ['dynamodb://', { Ref: tableId }]] },
        TRIGGERS_SECRET_ARN: { Ref: secretId },
        TRIGGERS_MAX_EVENTS_PER_RUN: '100',
        TRIGGERS_METRICS_NAMESPACE: 'Triggers',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('names handlers that src/lambda exports (dist/lambda/<file>.<export> once built)', async () => {
    for (const setting of Object.values(HANDLERS)) {
      const [, file, name] = /^dist\/lambda\/(\w+)\.(\w+)$/.exec(setting) ?? [];
      assert.ok(file && name, setting);
      const module = (await import(`../../src/lambda/${file}.js`)) as Record<string, unknown>;
      assert.equal(typeof module[name], 'function', setting);
    }
  });

  it('runs the API as dist/lambda/api.handler and the dispatcher as the seed: 256 MB, 5 minutes', () => {
    assert.equal(HANDLERS.api, 'dist/lambda/api.handler');
    assert.equal(HANDLERS.scheduled, 'dist/lambda/dispatcher.scheduledHandler');
    const [, dispatcher] = fnByHandler(template, HANDLERS.scheduled);
    assert.equal(dispatcher.Properties.MemorySize, 256);
    assert.equal(dispatcher.Properties.Timeout, 300);
    const [, api] = fnByHandler(template, HANDLERS.api);
    assert.equal(api.Properties.MemorySize, 512);
    assert.equal(api.Properties.Timeout, 30);
  });

  it('serves the API at a function URL with auth NONE and CORS for the console', () => {
    const [apiId] = fnByHandler(template, HANDLERS.api);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [apiId, 'Arn'] },
      Cors: {
        AllowOrigins: ['*'],
        AllowMethods: ['*'],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type', 'x-api-key', 'idempotency-key']),
        ExposeHeaders: Match.arrayWith(['x-next-cursor']),
      },
    });
  });

  it('runs the dispatcher on rate(5 minutes) with 2 retry attempts', () => {
    const [dispatcherId] = fnByHandler(template, HANDLERS.scheduled);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [dispatcherId, 'Arn'] }, Id: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 2 } }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [dispatcherId, 'Arn'] },
    });
  });

  it('has no stream dispatcher unless asked', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it("keeps the settings in one secret of the seed's JSON shape, jwt_secret generated", () => {
    const [, secret] = only(template.findResources('AWS::SecretsManager::Secret') as Record<string, Resource>);
    const generate = secret.Properties.GenerateSecretString as { SecretStringTemplate: string; GenerateStringKey: string };
    assert.equal(generate.GenerateStringKey, 'jwt_secret');
    const keys = [...Object.keys(JSON.parse(generate.SecretStringTemplate)), generate.GenerateStringKey].sort();
    assert.deepEqual(keys, ['jwt_secret', 'webhook_secret', 'zapier_api_key', 'zapier_webhook_url']);
  });

  it('alarms to one SNS topic: dispatcher errors and failed deliveries, > 3 in 5 minutes', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const topicId = idOf(template, 'AWS::SNS::Topic');
    const [dispatcherId] = fnByHandler(template, HANDLERS.scheduled);
    const common = {
      Threshold: ALARM_THRESHOLD,
      Period: 300,
      EvaluationPeriods: 1,
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topicId }],
    };
    assert.equal(ALARM_THRESHOLD, 3);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: dispatcherId } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'Triggers',
      MetricName: 'FailedDeliveries',
    });
  });

  it('alarms when the scheduled dispatcher fails on every run, which > 3 in 5 minutes never catches at rate(5 minutes)', () => {
    // One failing run is an invocation plus EventBridge's two retries: 3 errors, not more than 3.
    const [dispatcherId] = fnByHandler(template, HANDLERS.scheduled);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: dispatcherId } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: FAILING_PERIODS,
      DatapointsToAlarm: FAILING_PERIODS,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: idOf(template, 'AWS::SNS::Topic') }],
    });
    assert.equal(FAILING_PERIODS, 3);
  });

  it("has the dashboard with the seed's two widget groups", () => {
    const [, dashboard] = only(template.findResources('AWS::CloudWatch::Dashboard') as Record<string, Resource>);
    const parts = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'us-east-1')).join('')) as {
      widgets: { properties: { title: string; metrics: [string, string, ...unknown[]][] } }[];
    };
    const widgets = Object.fromEntries(
      body.widgets.map((w) => [w.properties.title, w.properties.metrics.map(([namespace, name]) => `${namespace}/${name}`)]),
    );
    const m = DISPATCHER_METRICS;
    assert.deepEqual(widgets, {
      'Event Processing': [`Triggers/${m.processed}`, `Triggers/${m.succeeded}`, `Triggers/${m.failed}`],
      Performance: [`Triggers/${m.latency}`, `Triggers/${m.latency}`, `Triggers/${m.retries}`],
    });
  });

  it('grants each function the table and the secret, and nothing with a bare wildcard', () => {
    for (const handler of [HANDLERS.api, HANDLERS.scheduled]) {
      const [, fn] = fnByHandler(template, handler);
      const statements = statementsOf(template, fn);
      const data = statements.find((s) => actions(s).includes('dynamodb:PutItem'));
      assert.ok(data, `${handler}: table read/write`);
      assert.ok(!actions(data).includes('dynamodb:Scan'), `${handler}: Scan is run by nothing, so not granted`);
      assert.deepEqual(resources(data)[0], { 'Fn::GetAtt': [tableId, 'Arn'] });
      assert.deepEqual(resources(data)[1], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/*']] });
      const read = statements.find((s) => actions(s).includes('secretsmanager:GetSecretValue'));
      assert.ok(read, `${handler}: secret read`);
      assert.deepEqual(resources(read), [{ Ref: secretId }]);
      assert.ok(!actions(read).some((a) => a.startsWith('secretsmanager:Put')), 'the secret is read-only to functions');
      for (const statement of statements) {
        assert.ok(!resources(statement).includes('*'), `${handler}: ${actions(statement).join(',')} on *`);
        assert.ok(!actions(statement).some((a) => a.endsWith('*')), `${handler}: wildcard action`);
      }
    }
  });

  it('lets each function write its own log group only: no managed policy, no logs action on another group', () => {
    for (const handler of [HANDLERS.api, HANDLERS.scheduled]) {
      const [, fn] = fnByHandler(template, handler);
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const role = template.toJSON().Resources[roleId] as Resource;
      // AWSLambdaBasicExecutionRole would allow logs:CreateLogGroup and PutLogEvents on every group.
      assert.equal(role.Properties.ManagedPolicyArns, undefined, `${handler}: managed policies`);
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const logStatements = statementsOf(template, fn).filter((s) => actions(s).some((a) => a.startsWith('logs:')));
      assert.deepEqual(logStatements.flatMap(actions).sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const statement of logStatements)
        assert.deepEqual(resources(statement), [{ 'Fn::GetAtt': [logGroup, 'Arn'] }], `${handler}: logs on its own group`);
    }
  });

  it("outputs the seed's names", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [dispatcherId] = fnByHandler(template, HANDLERS.scheduled);
    assert.deepEqual(outputs.DispatcherFunctionArn?.Value, { 'Fn::GetAtt': [dispatcherId, 'Arn'] });
    assert.deepEqual(outputs.DispatcherScheduleRuleName?.Value, { Ref: idOf(template, 'AWS::Events::Rule') });
    assert.deepEqual(outputs.ApiUrl?.Value, { 'Fn::GetAtt': [idOf(template, 'AWS::Lambda::Url'), 'FunctionUrl'] });
    assert.deepEqual(outputs.ApiSecretArn?.Value, { Ref: secretId });
    const url = JSON.stringify(outputs.DashboardUrl?.Value);
    assert.match(url, /console\.aws\.amazon\.com\/cloudwatch\/home\?region=/);
    assert.ok(url.includes(idOf(template, 'AWS::CloudWatch::Dashboard')));
  });
});

describe('the stack with streams and every option set', () => {
  let template: Template;
  let tableId: string;
  before(() => {
    template = synth({
      streams: true,
      streamBatchSize: 50,
      schedule: 'rate(1 minute)',
      maxEventsPerRun: 250,
      metricsNamespace: 'Acme/Triggers',
      corsOrigins: ['https://console.example.com'],
      alarmEmail: 'ops@example.com',
      architecture: 'x86_64',
      runtime: 'nodejs24.x',
    });
    tableId = idOf(template, 'AWS::DynamoDB::Table');
  });

  it('adds the stream dispatcher: streamHandler, batch size, bisect, partial batch failures, inserts only', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    assert.equal(HANDLERS.stream, 'dist/lambda/dispatcher.streamHandler');
    const [streamId, stream] = fnByHandler(template, HANDLERS.stream);
    assert.equal(stream.Properties.MemorySize, 256);
    assert.equal(stream.Properties.Timeout, 300);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: streamId },
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      BatchSize: 50,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'LATEST',
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
    });
  });

  it("gives only the stream dispatcher stream read (ListStreams on * is CDK's own grant)", () => {
    const [, stream] = fnByHandler(template, HANDLERS.stream);
    const statements = statementsOf(template, stream);
    const records = statements.find((s) => actions(s).includes('dynamodb:DescribeStream'));
    assert.ok(records);
    assert.deepEqual(resources(records), [{ 'Fn::GetAtt': [tableId, 'StreamArn'] }]);
    const wildcard = statements.filter((s) => resources(s).includes('*'));
    assert.deepEqual(wildcard.map(actions), [['dynamodb:ListStreams']]);
    for (const handler of [HANDLERS.api, HANDLERS.scheduled]) {
      const [, fn] = fnByHandler(template, handler);
      assert.ok(!statementsOf(template, fn).some((s) => actions(s).includes('dynamodb:DescribeStream')), handler);
    }
  });

  it('keeps the schedule (retries need it), at the configured rate', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
  });

  it('passes the options to every function', () => {
    for (const handler of [HANDLERS.api, HANDLERS.scheduled, HANDLERS.stream]) {
      const [, fn] = fnByHandler(template, handler);
      assert.equal(fn.Properties.Runtime, 'nodejs24.x');
      assert.deepEqual(fn.Properties.Architectures, ['x86_64']);
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      assert.equal(env.TRIGGERS_MAX_EVENTS_PER_RUN, '250');
      assert.equal(env.TRIGGERS_METRICS_NAMESPACE, 'Acme/Triggers');
    }
    template.hasResourceProperties('AWS::Lambda::Url', {
      Cors: Match.objectLike({ AllowOrigins: ['https://console.example.com'] }),
    });
  });

  it('alarms on the stream dispatcher too, in the configured namespace, and mails the topic', () => {
    const [streamId] = fnByHandler(template, HANDLERS.stream);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: streamId } }],
      Threshold: 3,
      Period: 300,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Acme/Triggers', MetricName: 'FailedDeliveries' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});
