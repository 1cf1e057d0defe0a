/**
 * Shape of the single deployment configuration (config/mandate.config.ts).
 * Every stack is derived from one value of this type; nothing else is read.
 */

/** Tags (AWS) / labels (GCP) every taggable resource must carry. */
export interface RequiredTags {
  /** Who answers pages for this deployment (team or mailbox). */
  readonly owner: string;
  /** Billing bucket. */
  readonly costCenter: string;
}

export interface FeatureSwitches {
  /** WAFv2 web ACL on every ALB (AWS). */
  readonly waf: boolean;
  /** Cloud Armor policy on the global backend service (GCP). */
  readonly cloudArmor: boolean;
  /** `aws ecs execute-command` into running tasks (forces a writable root filesystem). */
  readonly ecsExec: boolean;
  /** Deletion protection on databases, load balancers and Cloud Run. Turn off only for throwaway stacks. */
  readonly deletionProtection: boolean;
  /** One NAT gateway per AZ (true) or a single shared one (false, cheaper, one AZ of blast radius). */
  readonly natGatewayPerAz: boolean;
}

export interface AwsRegionConfig {
  /** e.g. "us-east-1". The first entry of `regions` is the database primary. */
  readonly region: string;
  /** VPC CIDR, /16 to /20. Must not overlap another region: regions are peered. */
  readonly vpcCidr: string;
}

export interface AwsSizes {
  /** Fargate task CPU units (256, 512, 1024, 2048, 4096). */
  readonly taskCpu: number;
  /** Fargate task memory in MiB, valid for the chosen CPU. */
  readonly taskMemoryMiB: number;
  /** Autoscaling floor per region; at least 2 so one AZ can fail. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Target average CPU % for the CPU scaling policy. */
  readonly cpuTargetPercent: number;
  /** Target ALB requests per task per minute for the request scaling policy. */
  readonly requestsPerTargetPerMinute: number;
  readonly dbInstanceClass: string;
  readonly dbAllocatedStorageGiB: number;
  readonly dbMaxAllocatedStorageGiB: number;
  readonly dbBackupRetentionDays: number;
  readonly cacheNodeType: string;
  /** Read replicas per Redis replication group (>= 1 for failover). */
  readonly cacheReplicas: number;
  readonly logRetentionDays: number;
}

export interface AwsAlarmThresholds {
  /** Alarm when 5xx responses exceed this percentage of requests over 5 minutes. */
  readonly http5xxPercent: number;
  /** Alarm when target p99 response time exceeds this many seconds. */
  readonly p99LatencySeconds: number;
  /** Alarm when service CPU exceeds this percentage. */
  readonly cpuPercent: number;
}

export interface AwsStateConfig {
  /** Existing S3 bucket holding every stack's state (versioned, encrypted). */
  readonly bucket: string;
  /** Region of the state bucket. */
  readonly region: string;
  /** Optional KMS key ARN for state encryption (SSE-S3 otherwise). */
  readonly kmsKeyArn?: string;
  /** DynamoDB lock table; when omitted the S3 native lock file (Terraform >= 1.10) is used. */
  readonly dynamodbLockTable?: string;
}

export interface AwsConfig {
  /** Public hostname served by every AWS region, e.g. "id.example.com". */
  readonly hostname: string;
  /** Existing public Route 53 hosted zone that contains `hostname`. */
  readonly hostedZoneName: string;
  /** Image reference for ECS; defaults to the top-level image. */
  readonly image?: string;
  /** CPU architecture of the image. */
  readonly cpuArchitecture: "X86_64" | "ARM64";
  readonly postgresVersion: string;
  readonly redisVersion: string;
  readonly regions: readonly AwsRegionConfig[];
  readonly sizes: AwsSizes;
  readonly alarms: AwsAlarmThresholds;
  /** Optional e-mail subscribed to the alarm topic (must be confirmed by the recipient). */
  readonly alarmEmail?: string;
  readonly state: AwsStateConfig;
}

export interface GcpRegionConfig {
  /** e.g. "europe-west1". The first entry of `regions` is the database primary. */
  readonly region: string;
  /** Subnet CIDR for Cloud Run direct VPC egress in this region. */
  readonly subnetCidr: string;
}

export interface GcpSizes {
  /** Cloud Run minimum instances per region; at least 2. */
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Cloud Run CPU limit, e.g. "1". */
  readonly cpu: string;
  /** Cloud Run memory limit, e.g. "1Gi". */
  readonly memory: string;
  /** Concurrent requests per instance. */
  readonly concurrency: number;
  /** Cloud SQL machine tier, e.g. "db-custom-2-7680". */
  readonly dbTier: string;
  readonly dbDiskGiB: number;
  readonly dbBackupRetentionDays: number;
  readonly redisMemoryGiB: number;
}

export interface GcpStateConfig {
  /** Existing GCS bucket (versioning on) holding every stack's state. GCS locks natively. */
  readonly bucket: string;
  /** Prefix inside the bucket. */
  readonly prefix: string;
}

export interface GcpConfig {
  readonly projectId: string;
  /** Public hostname served by the global load balancer, e.g. "id-gcp.example.com". */
  readonly hostname: string;
  /** Optional Cloud DNS managed zone (name, not DNS name) in which to create the A record. */
  readonly dnsManagedZone?: string;
  /** Image reference for Cloud Run (Artifact Registry); defaults to the top-level image. */
  readonly image?: string;
  /** Cloud SQL version, e.g. "POSTGRES_16". */
  readonly postgresVersion: string;
  /** Memorystore version, e.g. "REDIS_7_2". */
  readonly redisVersion: string;
  /** Range reserved for Private Service Access (Cloud SQL, Memorystore), e.g. "10.200.0.0/16". */
  readonly privateServiceRange: string;
  readonly regions: readonly GcpRegionConfig[];
  readonly sizes: GcpSizes;
  /** Requests per minute per client IP before Cloud Armor throttles. */
  readonly rateLimitPerMinute: number;
  readonly state: GcpStateConfig;
}

export interface MandateConfig {
  /** Short lowercase name used as a prefix for every resource (3-12 chars). */
  readonly appName: string;
  /** Environment name, e.g. "prod"; becomes a tag and part of names. */
  readonly environment: string;
  /** Server image reference (override per cloud below). */
  readonly image: string;
  readonly tags: RequiredTags;
  readonly features: FeatureSwitches;
  /** Requests per 5 minutes per client IP before the WAF rate rule blocks (AWS). */
  readonly wafRateLimitPer5Min: number;
  /** Omit a cloud to deploy nothing there. */
  readonly aws?: AwsConfig;
  readonly gcp?: GcpConfig;
}
