/**
 * `eda-kit cost`: what a million events cost through the CDK app of the current folder (synthesized through its
 * cdk.json, as `eda-kit local` does) or through a cloud assembly (`--assembly DIR`), at a workload the flags give;
 * the naive and floor configurations beside it, and which settings to change.
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { LocalCloudInputError } from '../../local/input-error';
import { synthesize } from '../../local/synth';
import { type AppSettings, readAssemblySettings } from './app-settings';
import { compareCosts } from './compare';
import { costReportJson, renderCostReport } from './cost-report';
import { COST_FLAGS, type CostFlags, workloadFromFlags } from './flags';
import { loadPrices, withPrice } from './prices';

/** The options of `eda-kit cost` besides the workload figures. */
export interface CostCommandOptions extends CostFlags {
  readonly assembly?: string;
  readonly prices?: string;
  readonly json: boolean;
}

/** The `cost` command, for `program.addCommand(costCommand())`. */
export function costCommand(): Command {
  const command = new Command('cost')
    .description(
      'what a million events cost through the CDK app of this folder on AWS, beside the naive and floor configurations, and which settings to change',
    )
    .option(
      '--assembly <dir>',
      'cost this cloud assembly (the folder cdk synth wrote) instead of synthesizing the app',
    );
  for (const flag of Object.values(COST_FLAGS)) {
    if ('default' in flag) command.option(flag.flags, flag.description, flag.parse, flag.default);
    else command.option(flag.flags, flag.description, flag.parse);
  }
  return (
    command
      .option('--prices <file>', 'a prices file of the shape of the shipped one (another region, other dates)')
      .option('--json', 'print JSON for machines instead of the report', false)
      // Like the other commands of eda-kit: a bad flag is one line on stderr and exit code 2.
      .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
      .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
      .action(async (options: CostCommandOptions) => {
        console.log(await runCost(options, process.cwd()));
      })
  );
}

/** Runs `eda-kit cost` in `appDir` and returns what it prints. Bad input throws an `InvalidArgumentError`. */
export async function runCost(options: CostCommandOptions, appDir: string): Promise<string> {
  let prices = loadPricesOrRefuse(options.prices);
  if (options.epuHourUsd !== undefined) {
    prices = withPrice(prices, 'lambda.sqsProvisionedMode.eventPollerUnitHour', options.epuHourUsd, '--epu-hour-usd');
  }
  const assembly = options.assembly === undefined ? undefined : path.resolve(appDir, options.assembly);
  const settings = assembly === undefined ? await synthesizeAndRead(appDir) : readOrRefuse(assembly);
  let comparison: ReturnType<typeof compareCosts>;
  try {
    comparison = compareCosts({ settings, workload: workloadFromFlags(options), prices });
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const context = {
    source: assembly === undefined ? 'synthesized through cdk.json' : path.relative(appDir, assembly) || '.',
  };
  return options.json
    ? JSON.stringify(costReportJson(comparison, context), null, 2)
    : renderCostReport(comparison, context);
}

function loadPricesOrRefuse(file: string | undefined) {
  try {
    return loadPrices(file);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function readOrRefuse(assemblyDir: string): AppSettings {
  try {
    return readAssemblySettings(assemblyDir);
  } catch (error) {
    if (error instanceof LocalCloudInputError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** Synthesizes the app of `appDir` through its cdk.json into a folder of its own, reads it, and removes it. */
async function synthesizeAndRead(appDir: string): Promise<AppSettings> {
  if (!existsSync(path.join(appDir, 'cdk.json'))) {
    throw new InvalidArgumentError(
      `no cdk.json in ${appDir}: run eda-kit cost in a CDK app's folder, or give the cloud assembly with --assembly <dir>`,
    );
  }
  const outdir = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-'));
  try {
    await synthesize(appDir, outdir);
    return readOrRefuse(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
