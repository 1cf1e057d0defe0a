import { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { GcpConfig, GcpRegionConfig, MandateConfig } from "../config/types";
import { Namer } from "../naming";
import { SECRET_ENV_NAMES, type SecretEnvName, secretSlug } from "../server-env";
import { requiredTags } from "../tagging";
import { gcpBackend, gcpGlobalNames, gcpProvider } from "./base-stack";
import { Memorystore } from "./cache";
import { CloudSql } from "./database";
import { Secret, gcpSecretId } from "./secrets";
import { CloudRunService } from "./service";

export interface GcpRegionStackProps {
  readonly config: MandateConfig;
  readonly gcp: GcpConfig;
  readonly region: GcpRegionConfig;
  /** The first region's stack; absent for the first region itself. */
  readonly primary?: GcpRegionStack;
}

/**
 * One GCP region: subnet, Cloud SQL (primary or cross-region replica),
 * Memorystore and the Cloud Run service. Global names (network, secrets,
 * service account) are derived, not read from remote state.
 */
export class GcpRegionStack extends TerraformStack {
  readonly region: string;
  readonly namer: Namer;
  readonly database: CloudSql;
  readonly cache: Memorystore;
  readonly service: CloudRunService;
  /** Deterministic names other stacks use instead of remote state. */
  readonly serviceName: string;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: GcpRegionStackProps) {
    super(scope, id);
    const { config, gcp, primary } = props;
    const region = props.region.region;
    this.region = region;
    const namer = new Namer(config.appName, config.environment, region);
    this.namer = namer;
    this.serviceName = namer.name("server");
    this.databaseName = namer.name("pg");
    const names = gcpGlobalNames(config, gcp);
    const labels = requiredTags(config);
    gcpProvider(this, config, gcp, region);
    new RandomProvider(this, "random");
    gcpBackend(this, gcp, region);

    const subnet = new ComputeSubnetwork(this, "subnet", {
      name: namer.name(),
      region,
      network: names.networkSelfLink,
      ipCidrRange: props.region.subnetCidr,
      privateIpGoogleAccess: true,
      logConfig: { aggregationInterval: "INTERVAL_5_MIN", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
    });

    this.database = new CloudSql(this, "database", {
      name: this.databaseName,
      region,
      role: primary ? { kind: "replica", primaryInstanceName: primary.databaseName } : { kind: "primary" },
      networkSelfLink: names.networkSelfLink,
      version: gcp.postgresVersion,
      sizes: gcp.sizes,
      deletionProtection: config.features.deletionProtection,
      labels,
    });
    const versions: SecretManagerSecretVersion[] = [];
    if (!primary) {
      // The base stack owns the (global) DATABASE_URL secret; its value is born here with the password.
      versions.push(
        new SecretManagerSecretVersion(this, "database-url-value", {
          secret: `projects/${gcp.projectId}/secrets/${gcpSecretId(names.prefix, secretSlug("DATABASE_URL"))}`,
          secretData: this.database.connectionUrl(),
        }),
      );
    }

    this.cache = new Memorystore(this, "cache", {
      name: namer.name("redis"),
      region,
      networkSelfLink: names.networkSelfLink,
      gcp,
      labels,
    });
    const locations = [region];
    const redisUrl = new Secret(this, "redis-url", {
      secretId: gcpSecretId(namer.prefix, "redis-url"),
      locations,
      accessorEmail: names.serviceAccountEmail,
      value: this.cache.url,
    });
    const redisCa = new Secret(this, "redis-ca", {
      secretId: gcpSecretId(namer.prefix, "redis-ca"),
      locations,
      accessorEmail: names.serviceAccountEmail,
      value: this.cache.caCertificate,
    });

    const secretIds = {} as Record<SecretEnvName, string>;
    for (const env of SECRET_ENV_NAMES) {
      secretIds[env] = gcpSecretId(names.prefix, secretSlug(env));
    }
    secretIds.REDIS_URL = redisUrl.secret.secretId;

    this.service = new CloudRunService(this, "service", {
      name: this.serviceName,
      region,
      image: gcp.image ?? config.image,
      issuer: `https://${gcp.hostname}`,
      // Each region has its own Memorystore; see the AWS stack for why several regions mean "off".
      tokenStateCache: gcp.regions.length > 1 ? "off" : "on",
      serviceAccountEmail: names.serviceAccountEmail,
      networkSelfLink: names.networkSelfLink,
      subnetworkSelfLink: subnet.selfLink,
      sizes: gcp.sizes,
      deletionProtection: config.features.deletionProtection,
      secretIds,
      caSecretId: redisCa.secret.secretId,
      labels,
      dependsOn: [...redisUrl.ready, ...redisCa.ready, ...versions],
    });

    new TerraformOutput(this, "service_url", { value: `https://${gcp.hostname}`, description: "Public URL (global load balancer)" });
    new TerraformOutput(this, "run_uri", { value: this.service.service.uri, description: "Cloud Run URI (ingress limited to the load balancer)" });
    new TerraformOutput(this, "database_private_ip", { value: this.database.instance.privateIpAddress, description: primary ? "Read replica (promotable)" : "Primary (writer)" });
    new TerraformOutput(this, "database_connection_name", { value: this.database.instance.connectionName });
    new TerraformOutput(this, "cache_host", { value: this.cache.instance.host });
    new TerraformOutput(this, "log_filter", {
      value: `resource.type="cloud_run_revision" AND resource.labels.service_name="${this.serviceName}" AND resource.labels.location="${region}"`,
      description: "Cloud Logging query for this region's server logs",
    });
  }
}
