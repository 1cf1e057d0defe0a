import { Testing } from "cdktf";
import shippedConfig from "../config/mandate.config";
import { buildStacks } from "../src/app";
import { formatCidr, overlaps, parseCidr, subnet } from "../src/config/cidr";
import type { MandateConfig } from "../src/config/types";
import { ConfigError, validateConfig } from "../src/config/validate";
import { regionCode } from "../src/naming";
import { mutableConfig, testConfig } from "./fixtures";

/** Runs the real entry point (buildStacks + synth) and returns the error it failed with. */
function synthError(config: MandateConfig): Error {
  const app = Testing.app();
  try {
    buildStacks(app, config);
    app.synth();
  } catch (err) {
    // Nothing may have been created before the error: a bad config never half-synthesizes.
    expect(app.node.children).toHaveLength(0);
    return err as Error;
  }
  throw new Error("synth succeeded but was expected to fail");
}

describe("configuration validation", () => {
  it("accepts the shipped configuration and the test fixture", () => {
    expect(validateConfig(shippedConfig)).toBe(shippedConfig);
    const fixture = testConfig();
    expect(validateConfig(fixture)).toBe(fixture);
  });

  it("fails synth when a cloud has no regions", () => {
    const config = mutableConfig();
    config.aws!.regions = [];
    config.gcp!.regions = [];
    const err = synthError(config);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain("aws.regions: at least one region is required");
    expect(err.message).toContain("gcp.regions: at least one region is required");
  });

  it("fails synth when a region is listed twice", () => {
    const config = mutableConfig();
    config.aws!.regions.push({ region: "eu-central-1", vpcCidr: "10.9.0.0/16" });
    config.gcp!.regions[2]!.region = "europe-west4";
    const err = synthError(config);
    expect(err.message).toContain('aws.regions: "eu-central-1" is listed more than once');
    expect(err.message).toContain('gcp.regions: "europe-west4" is listed more than once');
  });

  it.each([
    ["10.0.0.0/33", "not an IPv4 CIDR"],
    ["10.0.0/16", "not an IPv4 CIDR"],
    ["300.1.0.0/16", "octet > 255"],
    ["10.1.2.0/16", "host bits set; did you mean 10.1.0.0/16"],
    ["10.0.0.0/8", "must be between /16 and /20"],
  ])("fails synth on bad VPC CIDR %s", (cidr, message) => {
    const config = mutableConfig();
    config.aws!.regions[1]!.vpcCidr = cidr;
    const err = synthError(config);
    expect(err.message).toContain(`aws.regions[1].vpcCidr`);
    expect(err.message).toContain(message);
  });

  it("fails synth when peered VPCs or GCP ranges overlap", () => {
    const config = mutableConfig();
    config.aws!.regions[2]!.vpcCidr = "10.1.16.0/20";
    config.gcp!.privateServiceRange = "10.111.0.0/16";
    const err = synthError(config);
    expect(err.message).toContain('aws.regions[0].vpcCidr: "10.1.0.0/16" overlaps aws.regions[2].vpcCidr "10.1.16.0/20"');
    expect(err.message).toContain('overlaps gcp.privateServiceRange "10.111.0.0/16"');
  });

  it("rejects fewer than two tasks or instances and other bad sizes, listing every problem", () => {
    const config = mutableConfig();
    config.aws!.sizes.minTasks = 1;
    config.aws!.sizes.taskMemoryMiB = 1000;
    config.aws!.hostname = "auth.elsewhere.test";
    config.gcp!.sizes.minInstances = 0;
    config.tags.owner = "Platform Team";
    const err = synthError(config) as ConfigError;
    expect(err.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("aws.sizes.minTasks: 1 must be an integer between 2"),
        expect.stringContaining("aws.sizes.taskMemoryMiB: 1000 is not valid with 1024 CPU units"),
        expect.stringContaining('aws.hostname: "auth.elsewhere.test" is not inside hosted zone "mandate.test"'),
        expect.stringContaining("gcp.sizes.minInstances: 0 must be an integer between 2"),
        expect.stringContaining('tags.owner: "Platform Team"'),
      ]),
    );
    expect(err.problems).toHaveLength(5);
  });

  it("requires at least one cloud", () => {
    const config = mutableConfig();
    delete config.aws;
    delete config.gcp;
    expect(synthError(config).message).toContain("at least one of aws or gcp must be configured");
  });
});

describe("CIDR helpers", () => {
  it("carves subnets like Terraform's cidrsubnet", () => {
    expect(subnet("10.0.0.0/16", 4, 0)).toBe("10.0.0.0/20");
    expect(subnet("10.0.0.0/16", 4, 9)).toBe("10.0.144.0/20");
    expect(subnet("10.3.0.0/20", 4, 15)).toBe("10.3.15.0/24");
    expect(() => subnet("10.0.0.0/16", 4, 16)).toThrow("cannot carve subnet #16");
  });

  it("round-trips and detects overlap", () => {
    expect(formatCidr(parseCidr("192.168.128.0/17"))).toBe("192.168.128.0/17");
    expect(overlaps("10.0.0.0/16", "10.0.255.0/24")).toBe(true);
    expect(overlaps("10.0.0.0/16", "10.1.0.0/16")).toBe(false);
  });

  it("shortens region names uniquely for resource names", () => {
    expect(["us-east-1", "eu-west-1", "ap-southeast-2", "europe-west1", "us-central1", "northamerica-northeast1"].map(regionCode)).toEqual([
      "use1",
      "euw1",
      "apse2",
      "euw1",
      "usc1",
      "nane1",
    ]);
  });
});

describe("name length limits", () => {
  it("rejects an app and environment whose ALB names would exceed 32 characters", () => {
    const config = mutableConfig();
    config.appName = "mandateidprv";
    config.environment = "staging1";
    config.aws!.regions[0]!.region = "us-gov-west-1";
    expect(synthError(config).message).toContain('aws.regions[0]: resource name "mandateidprv-staging1-usgovw1-alb" exceeds 32 characters');
  });
});
