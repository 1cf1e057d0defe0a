import { RedisInstance } from "@cdktf/provider-google/lib/redis-instance";
import { Construct } from "constructs";
import type { GcpConfig } from "../config/types";

export interface MemorystoreProps {
  readonly name: string;
  readonly region: string;
  readonly networkSelfLink: string;
  readonly gcp: GcpConfig;
  readonly labels: Record<string, string>;
}

/**
 * Memorystore Redis, STANDARD_HA (replica in another zone, automatic
 * failover), AUTH on, TLS with server authentication, reached over Private
 * Service Access. Encryption at rest is Google-managed and always on.
 */
export class Memorystore extends Construct {
  readonly instance: RedisInstance;

  constructor(scope: Construct, id: string, props: MemorystoreProps) {
    super(scope, id);
    this.instance = new RedisInstance(this, "instance", {
      name: props.name,
      region: props.region,
      tier: "STANDARD_HA",
      memorySizeGb: props.gcp.sizes.redisMemoryGiB,
      redisVersion: props.gcp.redisVersion,
      authorizedNetwork: props.networkSelfLink,
      connectMode: "PRIVATE_SERVICE_ACCESS",
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      labels: props.labels,
      maintenancePolicy: { weeklyMaintenanceWindow: [{ day: "SUNDAY", startTime: { hours: 4, minutes: 0 } }] },
    });
  }

  /** rediss:// URL with the AUTH string; the server trusts the instance CA via NODE_EXTRA_CA_CERTS. */
  get url(): string {
    return `rediss://:${this.instance.authString}@${this.instance.host}:${this.instance.port}`;
  }

  /** PEM of the instance's server CA. */
  get caCertificate(): string {
    return this.instance.serverCaCerts.get(0).cert;
  }
}
