import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Password } from "@cdktf/provider-random/lib/password";
import { Construct } from "constructs";
import type { Namer } from "../naming";
import { allowIngress, emptySecurityGroup } from "./security-group";

export const REDIS_PORT = 6379;

export interface CacheProps {
  readonly namer: Namer;
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly clientSecurityGroupId: string;
  readonly kmsKeyArn: string;
  readonly nodeType: string;
  readonly replicas: number;
  readonly redisVersion: string;
}

/**
 * ElastiCache Redis, one primary plus replicas across AZs with automatic
 * failover; TLS is required in transit and AUTH is on. Each region has its
 * own cache: it holds nothing the database cannot rebuild.
 */
export class Cache extends Construct {
  readonly group: ElasticacheReplicationGroup;
  readonly securityGroup: SecurityGroup;
  readonly authToken: Password;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const { namer } = props;
    this.securityGroup = emptySecurityGroup(this, "sg", namer.name("redis"), props.vpcId, "Redis");
    allowIngress(this, "from-service", this.securityGroup.id, {
      port: REDIS_PORT,
      peer: { securityGroupId: props.clientSecurityGroupId },
      description: "Redis from the Mandate service",
    });
    const subnets = new ElasticacheSubnetGroup(this, "subnets", { name: namer.name("redis"), subnetIds: props.subnetIds });
    // AUTH tokens allow 16-128 printable chars; alphanumeric keeps the URL unescaped.
    this.authToken = new Password(this, "auth-token", { length: 64, special: false });
    this.group = new ElasticacheReplicationGroup(this, "group", {
      replicationGroupId: namer.name("redis"),
      description: "Mandate cache",
      engine: "redis",
      engineVersion: props.redisVersion,
      nodeType: props.nodeType,
      port: REDIS_PORT,
      numCacheClusters: 1 + props.replicas,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      subnetGroupName: subnets.name,
      securityGroupIds: [this.securityGroup.id],
      atRestEncryptionEnabled: "true",
      kmsKeyId: props.kmsKeyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: this.authToken.result,
      snapshotRetentionLimit: 3,
      snapshotWindow: "01:00-02:00",
      maintenanceWindow: "sun:04:30-sun:05:30",
      autoMinorVersionUpgrade: "true",
    });
  }

  /** rediss:// (TLS) URL with the AUTH token. */
  get url(): string {
    return `rediss://:${this.authToken.result}@${this.group.primaryEndpointAddress}:${REDIS_PORT}`;
  }
}
