/**
 * The HTTP API as a Lambda handler: the same fastify app `triggers serve` builds (buildApi, role
 * `api`), behind a function URL (payload format 2.0; API Gateway's formats work too), through
 * @fastify/aws-lambda. The app is built on the container's first invocation and reused.
 *
 *   Lambda handler setting: dist/lambda/api.handler
 *
 * A container that cannot start (no API key configured, the secret unreadable, the table
 * unreachable) answers 503 with the usual `{ error: { code, message } }` body and tries again on
 * the next request.
 */
import awsLambdaFastify from '@fastify/aws-lambda';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Context,
  LambdaFunctionURLEvent,
} from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/index.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../observability/logger.js';
import { type HandlerOptions, LambdaContainer } from './container.js';

interface BuiltApi {
  app: FastifyInstance;
  proxy: (event: unknown, context: Context) => Promise<APIGatewayProxyResultV2>;
}

/** A function URL event (payload 2.0), or API Gateway's 2.0 or 1.0 payload: the adapter reads each. */
export type ApiEvent = LambdaFunctionURLEvent | APIGatewayProxyEventV2 | APIGatewayProxyEvent;

export interface ApiHandler {
  (event: ApiEvent, context: Context): Promise<APIGatewayProxyResultV2>;
  /** Closes the app and the store (tests). */
  close(): Promise<void>;
}

export function createApiHandler(options: HandlerOptions = {}): ApiHandler {
  const container = new LambdaContainer<BuiltApi>({
    ...options,
    handler: 'api',
    requireCredentials: true,
    async build(parts) {
      const app = await buildApi({ ...parts, role: 'api' });
      // No request decoration (no route reads the Lambda event); binary types are base64-encoded.
      // A comma is part of a query value, as with `serve` (`?source=shop,eu`): the adapter would
      // split payload 2.0 values at commas into arrays, which the routes refuse as not strings.
      const proxy = awsLambdaFastify(app, {
        decorateRequest: false,
        parseCommaSeparatedQueryParams: false,
        binaryMimeTypes: ['image/*', 'font/*', 'application/octet-stream'],
      });
      // Route compilation and plugin start-up happen here, once per container, not in the first request.
      await app.ready();
      return { app, proxy: proxy as BuiltApi['proxy'] };
    },
    async dispose(built) {
      await built.app.close();
    },
  });

  const handler = async (event: ApiEvent, context: Context): Promise<APIGatewayProxyResultV2> => {
    let built: BuiltApi;
    try {
      ({ built } = await container.get());
    } catch (error) {
      const log = container.logger ?? createLogger('info', process.stdout);
      log.error({ err: error }, 'the API could not start');
      // The details (setting names, the secret's ARN) go to the log, not to the internet.
      const message =
        error instanceof ConfigError
          ? 'the API is not configured; the function log says which setting is missing or wrong'
          : 'the API cannot reach its storage or settings now; try again shortly';
      return {
        statusCode: 503,
        headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' },
        body: JSON.stringify({ error: { code: error instanceof ConfigError ? 'misconfigured' : 'unavailable', message } }),
      };
    }
    return built.proxy(event, context);
  };
  return Object.assign(handler, { close: () => container.close() });
}

/** The function URL handler (`dist/lambda/api.handler`). */
export const handler: ApiHandler = createApiHandler();
