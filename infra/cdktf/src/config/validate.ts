import { Namer } from "../naming";
import { overlaps, parseCidr } from "./cidr";
import type { AwsConfig, GcpConfig, MandateConfig } from "./types";

/** Thrown before any construct is created, so a bad config never half-synthesizes. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Mandate configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const GCP_REGION = /^[a-z]+-[a-z]+\d$/;
// Values double as GCP labels, the stricter of the two vocabularies.
const LABEL_VALUE = /^[a-z0-9_-]{1,63}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const LOG_RETENTION_DAYS = new Set([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]);
// Fargate CPU units -> allowed memory range in MiB (step 1024 above 2048 MiB).
const FARGATE_MEMORY: Record<number, readonly number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Pushes a problem for every duplicate, labelled by `what`. */
function checkUnique(values: readonly string[], what: string, problems: string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) problems.push(`${what}: "${v}" is listed more than once`);
    seen.add(v);
  }
}

/** Validates CIDRs one by one, then pairwise overlap among the valid ones. */
function checkCidrs(entries: readonly [string, string][], minPrefix: number, maxPrefix: number, problems: string[]): void {
  const valid: [string, string][] = [];
  for (const [label, cidr] of entries) {
    try {
      const { prefix } = parseCidr(cidr);
      if (prefix < minPrefix || prefix > maxPrefix) {
        problems.push(`${label}: "${cidr}" must be between /${minPrefix} and /${maxPrefix}`);
      } else {
        valid.push([label, cidr]);
      }
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
    }
  }
  for (let i = 0; i < valid.length; i++) {
    for (let j = i + 1; j < valid.length; j++) {
      const [la, a] = valid[i]!;
      const [lb, b] = valid[j]!;
      if (overlaps(a, b)) problems.push(`${la}: "${a}" overlaps ${lb} "${b}"`);
    }
  }
}

function checkInt(value: number, label: string, min: number, max: number, problems: string[]): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${label}: ${value} must be an integer between ${min} and ${max}`);
  }
}

// ALB and target group names are capped at 32 characters by AWS.
const AWS_LB_NAME_MAX = 32;

function validateAws(config: MandateConfig, aws: AwsConfig, problems: string[]): void {
  if (aws.regions.length === 0) {
    problems.push("aws.regions: at least one region is required (the first one is the database primary)");
  }
  aws.regions.forEach((r, i) => {
    if (!AWS_REGION.test(r.region)) problems.push(`aws.regions[${i}].region: "${r.region}" is not an AWS region name`);
    const longest = new Namer(config.appName, config.environment, r.region).name("alb");
    if (longest.length > AWS_LB_NAME_MAX) {
      problems.push(`aws.regions[${i}]: resource name "${longest}" exceeds ${AWS_LB_NAME_MAX} characters; shorten appName or environment`);
    }
  });
  checkUnique(aws.regions.map((r) => r.region), "aws.regions", problems);
  // Regions are VPC-peered to the primary, so their address spaces must be disjoint.
  checkCidrs(aws.regions.map((r, i) => [`aws.regions[${i}].vpcCidr`, r.vpcCidr]), 16, 20, problems);

  if (!HOSTNAME.test(aws.hostname)) problems.push(`aws.hostname: "${aws.hostname}" is not a lowercase DNS name`);
  const zone = aws.hostedZoneName.replace(/\.$/, "");
  if (aws.hostname !== zone && !aws.hostname.endsWith(`.${zone}`)) {
    problems.push(`aws.hostname: "${aws.hostname}" is not inside hosted zone "${zone}"`);
  }

  const s = aws.sizes;
  const memories = FARGATE_MEMORY[s.taskCpu];
  if (!memories) {
    problems.push(`aws.sizes.taskCpu: ${s.taskCpu} is not a Fargate CPU size (${Object.keys(FARGATE_MEMORY).join(", ")})`);
  } else if (!memories.includes(s.taskMemoryMiB)) {
    problems.push(`aws.sizes.taskMemoryMiB: ${s.taskMemoryMiB} is not valid with ${s.taskCpu} CPU units`);
  }
  checkInt(s.minTasks, "aws.sizes.minTasks", 2, 1000, problems);
  if (s.maxTasks < s.minTasks) problems.push(`aws.sizes.maxTasks: ${s.maxTasks} is below minTasks ${s.minTasks}`);
  checkInt(s.cpuTargetPercent, "aws.sizes.cpuTargetPercent", 10, 90, problems);
  checkInt(s.requestsPerTargetPerMinute, "aws.sizes.requestsPerTargetPerMinute", 1, 1_000_000, problems);
  checkInt(s.dbAllocatedStorageGiB, "aws.sizes.dbAllocatedStorageGiB", 20, 65536, problems);
  if (s.dbMaxAllocatedStorageGiB < s.dbAllocatedStorageGiB) {
    problems.push("aws.sizes.dbMaxAllocatedStorageGiB: must be >= dbAllocatedStorageGiB");
  }
  // PITR needs automated backups; a week is the floor we accept for an identity provider.
  checkInt(s.dbBackupRetentionDays, "aws.sizes.dbBackupRetentionDays", 7, 35, problems);
  checkInt(s.cacheReplicas, "aws.sizes.cacheReplicas", 1, 5, problems);
  if (!LOG_RETENTION_DAYS.has(s.logRetentionDays)) {
    problems.push(`aws.sizes.logRetentionDays: ${s.logRetentionDays} is not a CloudWatch retention value`);
  }
  if (aws.alarms.http5xxPercent <= 0 || aws.alarms.http5xxPercent > 100) {
    problems.push("aws.alarms.http5xxPercent: must be in (0, 100]");
  }
  if (aws.alarms.p99LatencySeconds <= 0) problems.push("aws.alarms.p99LatencySeconds: must be > 0");
  checkInt(aws.alarms.cpuPercent, "aws.alarms.cpuPercent", 1, 100, problems);
  if (!aws.state.bucket) problems.push("aws.state.bucket: required");
  if (!AWS_REGION.test(aws.state.region)) problems.push(`aws.state.region: "${aws.state.region}" is not an AWS region name`);
}

function validateGcp(gcp: GcpConfig, problems: string[]): void {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(gcp.projectId)) {
    problems.push(`gcp.projectId: "${gcp.projectId}" is not a GCP project id`);
  }
  if (gcp.regions.length === 0) {
    problems.push("gcp.regions: at least one region is required (the first one is the database primary)");
  }
  gcp.regions.forEach((r, i) => {
    if (!GCP_REGION.test(r.region)) problems.push(`gcp.regions[${i}].region: "${r.region}" is not a GCP region name`);
  });
  checkUnique(gcp.regions.map((r) => r.region), "gcp.regions", problems);
  // One global VPC: subnets and the Private Service Access range share an address space.
  checkCidrs(
    [
      ...gcp.regions.map((r, i): [string, string] => [`gcp.regions[${i}].subnetCidr`, r.subnetCidr]),
      ["gcp.privateServiceRange", gcp.privateServiceRange],
    ],
    8,
    26,
    problems,
  );
  if (!HOSTNAME.test(gcp.hostname)) problems.push(`gcp.hostname: "${gcp.hostname}" is not a lowercase DNS name`);
  const s = gcp.sizes;
  checkInt(s.minInstances, "gcp.sizes.minInstances", 2, 1000, problems);
  if (s.maxInstances < s.minInstances) problems.push(`gcp.sizes.maxInstances: ${s.maxInstances} is below minInstances ${s.minInstances}`);
  checkInt(s.concurrency, "gcp.sizes.concurrency", 1, 1000, problems);
  checkInt(s.dbDiskGiB, "gcp.sizes.dbDiskGiB", 10, 65536, problems);
  checkInt(s.dbBackupRetentionDays, "gcp.sizes.dbBackupRetentionDays", 7, 365, problems);
  checkInt(s.redisMemoryGiB, "gcp.sizes.redisMemoryGiB", 1, 300, problems);
  checkInt(gcp.rateLimitPerMinute, "gcp.rateLimitPerMinute", 1, 1_000_000, problems);
  if (!gcp.state.bucket) problems.push("gcp.state.bucket: required");
}

/** Returns the config unchanged or throws a ConfigError listing every problem found. */
export function validateConfig(config: MandateConfig): MandateConfig {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{1,10}[a-z0-9]$/.test(config.appName)) {
    problems.push(`appName: "${config.appName}" must be 3-12 chars of a-z, 0-9 and "-", starting with a letter`);
  }
  if (!/^[a-z][a-z0-9]{1,7}$/.test(config.environment)) {
    problems.push(`environment: "${config.environment}" must be 2-8 chars of a-z and 0-9, starting with a letter`);
  }
  if (!config.image.trim()) problems.push("image: required");
  for (const [key, value] of Object.entries(config.tags)) {
    if (!LABEL_VALUE.test(value)) problems.push(`tags.${key}: "${value}" must match ${LABEL_VALUE} (it is also a GCP label)`);
  }
  checkInt(config.wafRateLimitPer5Min, "wafRateLimitPer5Min", 10, 2_000_000_000, problems);
  if (!config.aws && !config.gcp) problems.push("at least one of aws or gcp must be configured");
  if (config.aws) validateAws(config, config.aws, problems);
  if (config.gcp) validateGcp(config.gcp, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
