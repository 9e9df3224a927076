import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LocalCloudInputError } from './input-error';

/** A CloudFormation resource as it stands in a synthesized template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A stack output as it stands in a synthesized template. */
export interface TemplateOutput {
  readonly Value: unknown;
  readonly Description?: string;
}

/** One stack of the cloud assembly. */
export interface AssemblyStack {
  readonly stackName: string;
  /** The folder of the (nested) assembly the stack belongs to: its asset paths are relative to it. */
  readonly directory: string;
  readonly templateFile: string;
  readonly resources: Record<string, TemplateResource>;
  readonly outputs: Record<string, TemplateOutput>;
}

/** Reads every CloudFormation stack that `cdk synth` wrote to `assemblyDir` (the cloud assembly manifest). */
export function readAssembly(assemblyDir: string): AssemblyStack[] {
  const manifestPath = path.join(assemblyDir, 'manifest.json');
  let manifest: {
    artifacts?: Record<
      string,
      { type: string; properties?: { templateFile?: string; stackName?: string; directoryName?: string } }
    >;
  };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new LocalCloudInputError(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `no cloud assembly at ${assemblyDir} (no manifest.json): run \`npx cdk synth\` first, or give the folder it wrote`
        : `cannot read the cloud assembly at ${manifestPath}: ${(error as Error).message}`,
    );
  }
  const artifacts = Object.entries(manifest.artifacts ?? {});
  // A stage (`cdk.Stage`, a pipeline's stage) is a nested assembly: its stacks run too.
  const nested = artifacts.flatMap(([, artifact]) =>
    artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName
      ? readAssembly(path.join(assemblyDir, artifact.properties.directoryName))
      : [],
  );
  const stacks = artifacts
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile)
    .map(([artifactId, artifact]) => {
      // The name CloudFormation deploys it under (a stack's `stackName` prop), as `cdk deploy` names its outputs.
      const stackName = artifact.properties?.stackName ?? artifactId;
      const templateFile = path.join(assemblyDir, artifact.properties?.templateFile ?? '');
      const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
        Resources?: Record<string, TemplateResource>;
        Outputs?: Record<string, TemplateOutput>;
      };
      return {
        stackName,
        directory: assemblyDir,
        templateFile,
        resources: template.Resources ?? {},
        outputs: template.Outputs ?? {},
      };
    });
  return [...stacks, ...nested];
}

/**
 * The logical ID a value refers to (`{ Ref: X }`, `{ 'Fn::GetAtt': [X, attr] }`), or undefined for anything else.
 */
export function referencedLogicalId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every logical ID that `value` refers to, anywhere inside it. */
export function allReferencedLogicalIds(value: unknown, found = new Set<string>()): Set<string> {
  const direct = referencedLogicalId(value);
  if (direct) found.add(direct);
  if (Array.isArray(value)) {
    for (const item of value) allReferencedLogicalIds(item, found);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) allReferencedLogicalIds(item, found);
  }
  return found;
}

/** The construct path CDK records for a resource (`Stack/Orders/Queue/Resource`), or its logical ID. */
export function constructPath(logicalId: string, resource: TemplateResource): string {
  const recorded = resource.Metadata?.['aws:cdk:path'];
  return typeof recorded === 'string' ? recorded.replace(/\/Resource$/, '') : logicalId;
}
