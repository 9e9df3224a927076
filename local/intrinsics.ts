/** The local account, region and partition every local ARN and URL uses. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** What a template resource became locally: the value of `Ref` and of each `Fn::GetAtt` attribute. */
export interface LocalResource {
  readonly type: string;
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Thrown for an intrinsic function the local cloud does not resolve; the message names it and where it is. */
export class UnresolvableError extends Error {
  constructor(what: string) {
    super(`Cannot resolve ${what} locally`);
    this.name = 'UnresolvableError';
  }
}

/**
 * Resolves CloudFormation intrinsic functions to local values: `Ref` (resources and pseudo parameters),
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split` and `Fn::Sub`. Any other function (`Fn::If`,
 * `Fn::ImportValue`...) fails with an error that names it, rather than resolving to something wrong.
 */
export class IntrinsicResolver {
  constructor(
    private readonly stackName: string,
    private readonly resources: ReadonlyMap<string, LocalResource>,
  ) {}

  public resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, argument] = entries[0];
      switch (key) {
        case 'Ref':
          return this.ref(String(argument));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
          return this.getAtt(String(logicalId), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = argument as [number, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, source] = argument as [string, unknown];
          return String(this.resolve(source)).split(separator);
        }
        case 'Fn::Sub':
          return this.sub(argument);
        default:
          if (key.startsWith('Fn::')) throw new UnresolvableError(key);
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  /** Resolves `value` to a string, or throws naming `where`. */
  public resolveString(value: unknown, where: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string' && typeof resolved !== 'number') {
      throw new UnresolvableError(`${where} (${JSON.stringify(value)})`);
    }
    return String(resolved);
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::NoValue':
        return '';
    }
    const resource = this.resources.get(name);
    if (!resource) throw new UnresolvableError(`Ref ${name}`);
    return resource.ref;
  }

  private getAtt(logicalId: string, attribute: string): string {
    const value = this.resources.get(logicalId)?.attributes[attribute];
    if (value === undefined) throw new UnresolvableError(`Fn::GetAtt ${logicalId}.${attribute}`);
    return value;
  }

  private sub(argument: unknown): string {
    const [template, variables] = Array.isArray(argument) ? argument : [argument, {}];
    const local = this.resolve(variables) as Record<string, unknown>;
    return String(template).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in local) return String(local[name]);
      const [logicalId, attribute] = name.split('.');
      return attribute ? this.getAtt(logicalId, attribute) : this.ref(logicalId);
    });
  }
}
