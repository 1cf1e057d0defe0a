import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket";
import { Aspects, TerraformResource, TerraformStack, Testing } from "cdktf";
import { REQUIRED_TAG_KEYS, RequiredTagsAspect, requiredTags, taggableAttribute } from "../src/tagging";
import { testConfig } from "./fixtures";
import { type Synthesized, stackJson, synthApp } from "./synth";

const config = testConfig();
let synth: Synthesized;
beforeAll(() => {
  synth = synthApp(config);
});

type Provider = { alias?: string; default_tags?: { tags: Record<string, string> }[]; default_labels?: Record<string, string> };

/** Tags a resource ends up with in the synthesized JSON: provider defaults, then its own. */
function effectiveTags(providers: Record<string, Provider[]>, resourceJson: Record<string, unknown>, attribute: "tags" | "labels", providerType: string): Record<string, string> {
  const [type, alias] = ((resourceJson.provider as string | undefined) ?? providerType).split(".");
  const provider = (providers[type!] ?? []).find((p) => p.alias === alias);
  const defaults = provider?.default_tags?.[0]?.tags ?? provider?.default_labels ?? {};
  return { ...defaults, ...((resourceJson[attribute] as Record<string, string> | undefined) ?? {}) };
}

describe("required tags and labels", () => {
  it("are set on every taggable resource of every stack, with the configured values", () => {
    const expected = requiredTags(config);
    let checked = 0;
    for (const stack of [...synth.stacks.aws, ...synth.stacks.gcp]) {
      const json = stackJson(synth, stack.node.id).tf;
      for (const construct of stack.node.findAll()) {
        if (!(construct instanceof TerraformResource)) continue;
        const attribute = taggableAttribute(construct);
        if (!attribute) continue;
        const id = stack.getLogicalId(construct);
        const resourceJson = json.resource?.[construct.terraformResourceType]?.[id];
        expect(resourceJson).toBeDefined();
        const providerType = construct.terraformGeneratorMetadata?.providerName ?? "";
        const tags = effectiveTags(json.provider as Record<string, Provider[]>, resourceJson!, attribute, providerType);
        for (const key of REQUIRED_TAG_KEYS) {
          expect({ resource: construct.node.path, key, value: tags[key] }).toEqual({ resource: construct.node.path, key, value: expected[key] });
        }
        checked++;
      }
    }
    // Guard against a vacuous pass: both clouds contribute taggable resources.
    expect(checked).toBeGreaterThan(150);
  });

  it("come from provider default tags and labels", () => {
    const tags = requiredTags(config);
    for (const stack of synth.stacks.aws) {
      const providers = stackJson(synth, stack.node.id).tf.provider as Record<string, Provider[]>;
      expect(providers.aws!.every((p) => p.default_tags?.[0]?.tags && Object.keys(tags).every((k) => p.default_tags![0]!.tags[k] === tags[k as keyof typeof tags]))).toBe(true);
    }
    for (const stack of synth.stacks.gcp) {
      const providers = stackJson(synth, stack.node.id).tf.provider as Record<string, Provider[]>;
      expect(providers.google![0]!.default_labels).toEqual(tags);
    }
  });
});

describe("RequiredTagsAspect", () => {
  const withAspect = (build: (stack: TerraformStack) => void) => () =>
    Testing.synthScope((scope) => {
      const stack = scope as TerraformStack;
      Aspects.of(stack).add(new RequiredTagsAspect());
      build(stack);
    });

  it("fails synth for an untagged AWS resource whose provider has no default tags", () => {
    expect(
      withAspect((stack) => {
        new AwsProvider(stack, "aws", { region: "eu-west-1" });
        new S3Bucket(stack, "bucket", { bucket: "b" });
      }),
    ).toThrow(/aws_s3_bucket ".*bucket" lacks required tags: app, environment, owner, cost_center, managed_by/);
  });

  it("names exactly the keys that are missing after provider defaults", () => {
    const tags = requiredTags(config);
    const { owner: _owner, ...withoutOwner } = tags;
    expect(
      withAspect((stack) => {
        new GoogleProvider(stack, "google", { project: "p", defaultLabels: withoutOwner });
        new StorageBucket(stack, "bucket", { name: "b", location: "EU" });
      }),
    ).toThrow(/google_storage_bucket ".*bucket" lacks required tags: owner$/);
  });

  it("accepts resource-level tags and ignores resources that cannot be tagged", () => {
    const output = withAspect((stack) => {
      new AwsProvider(stack, "aws", { region: "eu-west-1" });
      new S3Bucket(stack, "bucket", { bucket: "b", tags: requiredTags(config) });
      new Route(stack, "route", { routeTableId: "rtb-1", destinationCidrBlock: "0.0.0.0/0", gatewayId: "igw-1" });
    })();
    expect(JSON.parse(output).resource.aws_route).toBeDefined();
  });
});
