import type { MandateConfig } from "../src/config/types";

/**
 * Test configuration: three AWS regions and three GCP regions (the shipped
 * example has two of each), so nothing in the code can assume a pair.
 */
export function testConfig(): MandateConfig {
  return {
    appName: "mdt",
    environment: "test",
    image: "registry.example.test/mandate:1.2.3",
    tags: { owner: "platform-team", costCenter: "cc-42" },
    features: { waf: true, cloudArmor: true, ecsExec: true, deletionProtection: true, natGatewayPerAz: false },
    wafRateLimitPer5Min: 500,
    aws: {
      hostname: "auth.mandate.test",
      hostedZoneName: "mandate.test",
      cpuArchitecture: "ARM64",
      postgresVersion: "16.8",
      redisVersion: "7.1",
      regions: [
        { region: "eu-central-1", vpcCidr: "10.1.0.0/16" },
        { region: "us-west-2", vpcCidr: "10.2.0.0/18" },
        { region: "ap-southeast-2", vpcCidr: "10.3.0.0/20" },
      ],
      sizes: {
        taskCpu: 1024,
        taskMemoryMiB: 2048,
        minTasks: 3,
        maxTasks: 9,
        cpuTargetPercent: 55,
        requestsPerTargetPerMinute: 800,
        dbInstanceClass: "db.r7g.large",
        dbAllocatedStorageGiB: 40,
        dbMaxAllocatedStorageGiB: 200,
        dbBackupRetentionDays: 10,
        cacheNodeType: "cache.r7g.large",
        cacheReplicas: 2,
        logRetentionDays: 30,
      },
      alarms: { http5xxPercent: 1, p99LatencySeconds: 2, cpuPercent: 80 },
      state: { bucket: "tfstate-test", region: "eu-central-1" },
    },
    gcp: {
      projectId: "mandate-test-123",
      hostname: "auth-gcp.mandate.test",
      dnsManagedZone: "mandate-test",
      postgresVersion: "POSTGRES_16",
      redisVersion: "REDIS_7_2",
      privateServiceRange: "10.250.0.0/16",
      regions: [
        { region: "europe-west4", subnetCidr: "10.110.0.0/22" },
        { region: "us-east4", subnetCidr: "10.111.0.0/22" },
        { region: "asia-northeast1", subnetCidr: "10.112.0.0/22" },
      ],
      sizes: {
        minInstances: 2,
        maxInstances: 10,
        cpu: "2",
        memory: "2Gi",
        concurrency: 60,
        dbTier: "db-custom-2-7680",
        dbDiskGiB: 30,
        dbBackupRetentionDays: 9,
        redisMemoryGiB: 2,
      },
      rateLimitPerMinute: 300,
      state: { bucket: "tfstate-test-gcp", prefix: "mdt/test" },
    },
  };
}

/** Deep-mutable copy for tests that break one field on purpose. */
export type Mutable<T> = T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;

export function mutableConfig(): Mutable<MandateConfig> {
  return structuredClone(testConfig()) as Mutable<MandateConfig>;
}
