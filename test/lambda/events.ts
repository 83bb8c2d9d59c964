/**
 * Real Lambda event shapes for the handler tests: a function URL request (payload format 2.0),
 * an EventBridge scheduled event, DynamoDB Streams records as the table's NEW_IMAGE stream
 * carries them, and a Lambda context.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  AttributeValue,
  Context,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  ScheduledEvent,
} from 'aws-lambda';

const URL_ID = 'abcdefghijklmnopqrstuvwxyz012345';
const DOMAIN = `${URL_ID}.lambda-url.us-east-2.on.aws`;

export function functionUrlEvent(
  method: string,
  pathAndQuery: string,
  options: { body?: unknown; form?: Record<string, string>; headers?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const [path, query = ''] = pathAndQuery.split('?') as [string, string?];
  const headers: Record<string, string> = {
    host: DOMAIN,
    'user-agent': 'curl/8.5.0',
    accept: '*/*',
    'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...options.headers,
  };
  let body: string | undefined;
  if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const base64 = options.base64 === true && body !== undefined;
  const queryStringParameters = query === '' ? undefined : Object.fromEntries(new URLSearchParams(query));
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers,
    queryStringParameters,
    requestContext: {
      accountId: 'anonymous',
      apiId: URL_ID,
      domainName: DOMAIN,
      domainPrefix: URL_ID,
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      requestId: `req-${now}-${Math.random().toString(16).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: body === undefined ? undefined : base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

export function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-2',
    resources: ['arn:aws:events:us-east-2:123456789012:rule/triggers-dispatcher-schedule'],
    detail: {},
  };
}

let sequence = 100_000_000_000_000_000_000n;

/** One INSERT stream record of a new item; `image` in DynamoDB's attribute-value form. */
export function insertRecord(
  image: Record<string, AttributeValue>,
  eventName: DynamoDBRecord['eventName'] = 'INSERT',
): DynamoDBRecord {
  sequence += 1n;
  return {
    eventID: `c81e728d9d4c2f636f067f89cc14862${Number(sequence % 10n)}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-2',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { pk: image.pk as AttributeValue, sk: image.sk as AttributeValue },
      NewImage: image,
      SequenceNumber: String(sequence),
      SizeBytes: 300,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-2:123456789012:table/triggers/stream/2026-11-29T00:00:00.000',
  };
}

/** The stream image of a new pending delivery, in the DynamoDB store's item layout. */
export function deliveryImage(
  eventId: string,
  subscriptionId: string,
  deliveryId = `${eventId}-0123456789abcdef0123`,
): Record<string, AttributeValue> {
  const now = String(Date.now());
  return {
    pk: { S: `EVT#${eventId}` },
    sk: { S: `DLV#${deliveryId.slice(deliveryId.lastIndexOf('-') + 1)}` },
    id: { S: deliveryId },
    event_id: { S: eventId },
    subscription_id: { S: subscriptionId },
    status: { S: 'pending' },
    attempts_count: { N: '0' },
    next_attempt_at: { N: now },
    created_at: { N: now },
  };
}

/** The stream image of a new event item. */
export function eventImage(eventId: string): Record<string, AttributeValue> {
  return {
    pk: { S: `EVT#${eventId}` },
    sk: { S: 'EVT' },
    id: { S: eventId },
    type: { S: 'order.created' },
    source: { S: 'test' },
    payload: { S: '{"n":1}' },
    created_at: { N: String(Date.now()) },
  };
}

export const streamEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

export function lambdaContext(functionName = 'triggers-test', timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-2:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/29/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A handler's answer as the tests read it. */
// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
export function parsed(result: unknown): { status: number; headers: Record<string, unknown>; json: any } {
  const answer = result as APIGatewayProxyStructuredResultV2;
  const text = answer.isBase64Encoded ? Buffer.from(answer.body ?? '', 'base64').toString('utf8') : (answer.body ?? '');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: answer.statusCode ?? 0, headers: answer.headers ?? {}, json };
}
