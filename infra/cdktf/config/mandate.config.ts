import type { MandateConfig } from "../src/config/types";

/**
 * The one file to edit for a deployment. Values below are placeholders for
 * an example organisation; every field is documented in src/config/types.ts
 * and checked by src/config/validate.ts before anything is synthesized.
 */
const config: MandateConfig = {
  appName: "mandate",
  environment: "prod",
  image: "ghcr.io/example/mandate-reference-server:0.1.0",
  tags: { owner: "identity-platform", costCenter: "cc-1234" },
  features: {
    waf: true,
    cloudArmor: true,
    ecsExec: true,
    deletionProtection: true,
    natGatewayPerAz: true,
  },
  wafRateLimitPer5Min: 2000,

  aws: {
    hostname: "id.example.com",
    hostedZoneName: "example.com",
    image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/mandate-reference-server:0.1.0",
    cpuArchitecture: "X86_64",
    postgresVersion: "16.8",
    redisVersion: "7.1",
    // First region = database primary; VPC CIDRs must not overlap (regions are peered).
    regions: [
      { region: "us-east-1", vpcCidr: "10.10.0.0/16" },
      { region: "eu-west-1", vpcCidr: "10.20.0.0/16" },
    ],
    sizes: {
      taskCpu: 512,
      taskMemoryMiB: 1024,
      minTasks: 2,
      maxTasks: 12,
      cpuTargetPercent: 60,
      requestsPerTargetPerMinute: 1000,
      dbInstanceClass: "db.m7g.large",
      dbAllocatedStorageGiB: 50,
      dbMaxAllocatedStorageGiB: 500,
      dbBackupRetentionDays: 14,
      cacheNodeType: "cache.m7g.large",
      cacheReplicas: 1,
      logRetentionDays: 90,
    },
    alarms: { http5xxPercent: 2, p99LatencySeconds: 1.5, cpuPercent: 85 },
    state: { bucket: "example-mandate-tfstate", region: "us-east-1" },
  },

  gcp: {
    projectId: "example-mandate-prod",
    hostname: "id-gcp.example.com",
    image: "us-docker.pkg.dev/example-mandate-prod/mandate/reference-server:0.1.0",
    postgresVersion: "POSTGRES_16",
    redisVersion: "REDIS_7_2",
    privateServiceRange: "10.200.0.0/16",
    // First region = database primary.
    regions: [
      { region: "us-central1", subnetCidr: "10.100.0.0/20" },
      { region: "europe-west1", subnetCidr: "10.101.0.0/20" },
    ],
    sizes: {
      minInstances: 2,
      maxInstances: 20,
      cpu: "1",
      memory: "1Gi",
      concurrency: 80,
      dbTier: "db-custom-2-7680",
      dbDiskGiB: 50,
      dbBackupRetentionDays: 14,
      redisMemoryGiB: 1,
    },
    rateLimitPerMinute: 600,
    state: { bucket: "example-mandate-tfstate-gcp", prefix: "mandate/prod" },
  },
};

export default config;
