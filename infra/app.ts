/**
 * The CDK app: run after `npm run build` (`npm run synth`), it writes the CloudFormation template
 * and the Lambda package to infra/cdk.out/, offline; `npx aws-cdk@2 deploy --app infra/cdk.out`
 * deploys it (docs/aws.md). Options are CDK context: `npm run synth -- -c streams=true`. Run by
 * the CDK CLI instead (`--app 'node --import tsx infra/app.ts'`), it writes where the CLI asks
 * (CDK_OUTDIR) and takes the CLI's context.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { lambdaCode, missingHandlers } from './lambdaPackage.js';
import { contextFromArgs, readSettings } from './settings.js';
import { TriggersStack } from './stack.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = process.env.CDK_OUTDIR ?? join(root, 'infra', 'cdk.out');

try {
  // infra/cdk.out is this app's alone: start it afresh, so Lambda packages of earlier builds
  // (about 55 MB each) do not pile up. A directory the CDK CLI chose is the CLI's to manage.
  const context = contextFromArgs(process.argv.slice(2));
  const missing = missingHandlers(root);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` before synth`);
  if (process.env.CDK_OUTDIR === undefined) rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, context });
  const { stackName, ...settings } = readSettings((key) => app.node.tryGetContext(key));
  new TriggersStack(app, stackName, {
    ...settings,
    code: lambdaCode(root),
    description: 'Triggers: event ingestion API and webhook dispatcher',
  });
  app.synth();
  console.log(`synthesized stack ${stackName} into ${outdir}`);
} catch (error) {
  console.error(`synth failed: ${(error as Error).message}`);
  process.exit(1);
}
