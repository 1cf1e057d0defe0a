import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, AwsRegionConfig, MandateConfig } from "../config/types";
import { Namer } from "../naming";
import { requiredTags } from "../tagging";
import { Cache } from "./cache";
import { Database } from "./database";
import { RegionKey } from "./kms";
import { LoadBalancer } from "./load-balancer";
import { Network } from "./network";
import { Observability } from "./observability";
import { PrimaryPeering } from "./peering";
import { RegionalDns } from "./dns";
import { ServiceSecrets } from "./secrets";
import { emptySecurityGroup } from "./security-group";
import { Service } from "./service";
import { Waf } from "./waf";

export interface AwsRegionStackProps {
  readonly config: MandateConfig;
  readonly aws: AwsConfig;
  readonly region: AwsRegionConfig;
  /** The first region's stack; absent for the first region itself. */
  readonly primary?: AwsRegionStack;
}

/**
 * Everything one AWS region runs. The first region owns the writable database;
 * every other region holds a cross-region read replica of it, writes to the
 * primary over VPC peering, and can be promoted (README "Failover").
 */
export class AwsRegionStack extends TerraformStack {
  readonly region: string;
  readonly vpcCidr: string;
  readonly namer: Namer;
  readonly network: Network;
  readonly database: Database;
  readonly cache: Cache;
  readonly loadBalancer: LoadBalancer;
  readonly service: Service;
  readonly observability: Observability;
  readonly dns: RegionalDns;
  readonly waf?: Waf;
  readonly peering?: PrimaryPeering;

  constructor(scope: Construct, id: string, props: AwsRegionStackProps) {
    super(scope, id);
    const { config, aws, primary } = props;
    const region = props.region.region;
    this.region = region;
    this.vpcCidr = props.region.vpcCidr;
    const namer = new Namer(config.appName, config.environment, region);
    this.namer = namer;
    const defaultTags = [{ tags: requiredTags(config) }];

    new AwsProvider(this, "aws", { region, defaultTags });
    new RandomProvider(this, "random");
    new S3Backend(this, {
      bucket: aws.state.bucket,
      key: `${config.appName}/${config.environment}/aws/${region}.tfstate`,
      region: aws.state.region,
      encrypt: true,
      kmsKeyId: aws.state.kmsKeyArn,
      dynamodbTable: aws.state.dynamodbLockTable,
    });
    if (!aws.state.dynamodbLockTable) {
      // S3 native locking (Terraform >= 1.10); not yet a typed option of S3Backend.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    }

    const identity = new DataAwsCallerIdentity(this, "identity");
    const partition = new DataAwsPartition(this, "partition");
    const zone = new DataAwsRoute53Zone(this, "zone", { name: aws.hostedZoneName, privateZone: false });
    const key = new RegionKey(this, "kms", { namer, region, accountId: identity.accountId, partition: partition.partition }).key;

    this.network = new Network(this, "network", {
      namer,
      region,
      cidr: props.region.vpcCidr,
      natGatewayPerAz: config.features.natGatewayPerAz,
    });
    const serviceSg = emptySecurityGroup(this, "service-sg", namer.name("service"), this.network.vpc.id, "Mandate tasks");

    this.database = new Database(this, "database", {
      namer,
      role: primary ? { kind: "replica", sourceArn: primary.database.instance.arn } : { kind: "primary" },
      vpcId: this.network.vpc.id,
      subnetIds: this.network.dataSubnets.map((s) => s.id),
      clientSecurityGroupId: serviceSg.id,
      kmsKeyArn: key.arn,
      postgresVersion: aws.postgresVersion,
      sizes: aws.sizes,
      deletionProtection: config.features.deletionProtection,
    });

    let databaseUrl: string;
    const databaseCidrs = [props.region.vpcCidr];
    if (primary) {
      const primaryProvider = new AwsProvider(this, "aws-primary", { alias: "primary", region: primary.region, defaultTags });
      this.peering = new PrimaryPeering(this, "peering", {
        namer,
        primaryRegion: primary.region,
        primaryProvider,
        local: {
          vpcId: this.network.vpc.id,
          cidr: props.region.vpcCidr,
          routeTableIds: this.network.appRouteTables.map((rt) => rt.id),
        },
        primary: {
          vpcId: primary.network.vpc.id,
          cidr: primary.vpcCidr,
          routeTableIds: [primary.network.dataRouteTable.id],
        },
        primaryDatabaseSecurityGroupId: primary.database.securityGroup.id,
      });
      databaseCidrs.push(primary.vpcCidr);
      // Writes go to the primary until this region's replica is promoted.
      databaseUrl = primary.database.connectionUrl();
    } else {
      databaseUrl = this.database.connectionUrl();
    }

    this.cache = new Cache(this, "cache", {
      namer,
      vpcId: this.network.vpc.id,
      subnetIds: this.network.dataSubnets.map((s) => s.id),
      clientSecurityGroupId: serviceSg.id,
      kmsKeyArn: key.arn,
      nodeType: aws.sizes.cacheNodeType,
      replicas: aws.sizes.cacheReplicas,
      redisVersion: aws.redisVersion,
    });

    const secrets = new ServiceSecrets(this, "secrets", {
      prefix: `${config.appName}/${config.environment}`,
      kmsKeyArn: key.arn,
      generated: { DATABASE_URL: databaseUrl, REDIS_URL: this.cache.url },
    });

    this.loadBalancer = new LoadBalancer(this, "load-balancer", {
      namer,
      vpcId: this.network.vpc.id,
      vpcCidr: props.region.vpcCidr,
      publicSubnetIds: this.network.publicSubnets.map((s) => s.id),
      hostname: aws.hostname,
      zoneId: zone.zoneId,
      deletionProtection: config.features.deletionProtection,
    });
    if (config.features.waf) {
      this.waf = new Waf(this, "waf", { namer, albArn: this.loadBalancer.alb.arn, rateLimitPer5Min: config.wafRateLimitPer5Min });
    }

    this.observability = new Observability(this, "observability", {
      namer,
      kmsKeyArn: key.arn,
      retentionDays: aws.sizes.logRetentionDays,
      thresholds: aws.alarms,
      alarmEmail: aws.alarmEmail,
      albArnSuffix: this.loadBalancer.alb.arnSuffix,
      targetGroupArnSuffix: this.loadBalancer.targetGroup.arnSuffix,
      clusterName: namer.name(),
      serviceName: namer.name(),
    });

    this.service = new Service(this, "service", {
      namer,
      region,
      accountId: identity.accountId,
      partition: partition.partition,
      image: aws.image ?? config.image,
      cpuArchitecture: aws.cpuArchitecture,
      sizes: aws.sizes,
      issuer: `https://${aws.hostname}`,
      // Each region has its own Redis; a revocation written through in one region would
      // not reach another region's cache, so with several regions the database answers.
      tokenStateCache: aws.regions.length > 1 ? "off" : "on",
      ecsExec: config.features.ecsExec,
      vpcCidr: props.region.vpcCidr,
      subnetIds: this.network.appSubnets.map((s) => s.id),
      securityGroup: serviceSg,
      albSecurityGroupId: this.loadBalancer.securityGroup.id,
      databaseCidrs,
      targetGroupArn: this.loadBalancer.targetGroup.arn,
      albArnSuffix: this.loadBalancer.alb.arnSuffix,
      targetGroupArnSuffix: this.loadBalancer.targetGroup.arnSuffix,
      listener: this.loadBalancer.httpsListener,
      logGroupName: this.observability.logGroup.name,
      kmsKeyArn: key.arn,
      secretArns: secrets.arns,
    });

    this.dns = new RegionalDns(this, "dns", {
      namer,
      region,
      zoneId: zone.zoneId,
      hostname: aws.hostname,
      albDnsName: this.loadBalancer.alb.dnsName,
      albZoneId: this.loadBalancer.alb.zoneId,
    });

    new TerraformOutput(this, "service_url", { value: `https://${aws.hostname}`, description: "Public URL (latency-routed across regions)" });
    new TerraformOutput(this, "regional_url", { value: `https://${this.loadBalancer.alb.dnsName}`, description: "This region's ALB (certificate is for service_url)" });
    new TerraformOutput(this, "database_endpoint", { value: this.database.instance.endpoint, description: primary ? "Read replica (promotable)" : "Primary (writer)" });
    new TerraformOutput(this, "cache_endpoint", { value: this.cache.group.primaryEndpointAddress });
    new TerraformOutput(this, "log_group", { value: this.observability.logGroup.name });
    new TerraformOutput(this, "alarm_topic_arn", { value: this.observability.topic.arn });
    new TerraformOutput(this, "ecs_cluster", { value: this.service.cluster.name });
  }
}
