import { type App, Aspects, type TerraformStack } from "cdktf";
import { AwsRegionStack } from "./aws/region-stack";
import type { MandateConfig } from "./config/types";
import { validateConfig } from "./config/validate";
import { GcpBaseStack } from "./gcp/base-stack";
import { GcpEdgeStack } from "./gcp/edge-stack";
import { GcpRegionStack } from "./gcp/region-stack";
import { awsStackName, gcpStackName } from "./naming";
import { RequiredTagsAspect } from "./tagging";

export interface MandateStacks {
  /** In deploy order: primary region first. */
  readonly aws: AwsRegionStack[];
  /** In deploy order: base, primary region, other regions, edge. */
  readonly gcp: TerraformStack[];
}

/**
 * Validates the configuration, then creates every stack in `app`. Stack
 * dependencies encode the deploy order that `cdktf deploy '*'` follows.
 */
export function buildStacks(app: App, input: MandateConfig): MandateStacks {
  const config = validateConfig(input);
  const stacks: { aws: AwsRegionStack[]; gcp: TerraformStack[] } = { aws: [], gcp: [] };

  if (config.aws) {
    const aws = config.aws;
    let primary: AwsRegionStack | undefined;
    for (const region of aws.regions) {
      const stack = new AwsRegionStack(app, awsStackName(config.appName, config.environment, region.region), {
        config,
        aws,
        region,
        primary,
      });
      if (primary) stack.addDependency(primary);
      primary ??= stack;
      stacks.aws.push(stack);
    }
  }

  if (config.gcp) {
    const gcp = config.gcp;
    const base = new GcpBaseStack(app, gcpStackName(config.appName, config.environment, "base"), { config, gcp });
    stacks.gcp.push(base);
    let primary: GcpRegionStack | undefined;
    const regions: GcpRegionStack[] = [];
    for (const region of gcp.regions) {
      const stack = new GcpRegionStack(app, gcpStackName(config.appName, config.environment, region.region), {
        config,
        gcp,
        region,
        primary,
      });
      stack.addDependency(base);
      if (primary) stack.addDependency(primary);
      primary ??= stack;
      regions.push(stack);
    }
    stacks.gcp.push(...regions);
    const edge = new GcpEdgeStack(app, gcpStackName(config.appName, config.environment, "edge"), { config, gcp, regions });
    regions.forEach((r) => edge.addDependency(r));
    stacks.gcp.push(edge);
  }

  for (const stack of [...stacks.aws, ...stacks.gcp]) {
    Aspects.of(stack).add(new RequiredTagsAspect());
  }
  return stacks;
}
