import * as path from 'node:path';
import Table from 'cli-table3';
import { readAssembly } from './assembly';
import { summarizePipelines } from './pipeline-summary';

/**
 * Prints every pipeline of the synthesized app: source, consumer, settings, dead letters and alarms.
 * Usage: `tsx local/summary.ts [cdk.out]` (after `cdk synth`).
 */
function main(): void {
  const assemblyDir = path.resolve(process.argv[2] ?? 'cdk.out');
  const stacks = readAssembly(assemblyDir);
  for (const stack of stacks) {
    const count = (type: string) => Object.values(stack.resources).filter((r) => r.Type === type).length;
    console.log(`\nStack ${stack.stackName} (${path.relative(process.cwd(), stack.templateFile)})`);
    const table = new Table({
      head: ['source', 'consumer', 'settings', 'dead letters', 'alarms'],
      colWidths: [30, 22, 42, 48, 8],
      wordWrap: true,
      wrapOnWordBoundary: false,
      style: process.stdout.isTTY ? { head: ['cyan'] } : { head: [], border: [] },
    });
    for (const pipeline of summarizePipelines([stack])) {
      table.push([
        `${pipeline.sourceKind}\n${pipeline.source}`,
        pipeline.consumer,
        pipeline.settings,
        pipeline.deadLetters,
        String(pipeline.alarms),
      ]);
    }
    console.log(table.toString());
    console.log(
      `  ${count('AWS::SQS::Queue')} queues, ${count('AWS::Kinesis::Stream')} streams, ` +
        `${count('AWS::Lambda::Function')} functions, ${count('AWS::DynamoDB::Table')} tables, ` +
        `${count('AWS::CloudWatch::Alarm')} alarms, ${count('AWS::CloudWatch::Dashboard')} dashboard(s)`,
    );
  }
  if (stacks.length === 0) {
    console.error(`No CloudFormation stack in ${assemblyDir}`);
    process.exitCode = 1;
  }
}

main();
