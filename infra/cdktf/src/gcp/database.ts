import { Password } from "@cdktf/provider-random/lib/password";
import { SqlDatabase } from "@cdktf/provider-google/lib/sql-database";
import { SqlDatabaseInstance } from "@cdktf/provider-google/lib/sql-database-instance";
import { SqlUser } from "@cdktf/provider-google/lib/sql-user";
import { Construct } from "constructs";
import type { GcpSizes } from "../config/types";

export const DB_NAME = "mandate";
export const DB_USER = "mandate";

export type CloudSqlRole = { readonly kind: "primary" } | { readonly kind: "replica"; readonly primaryInstanceName: string };

export interface CloudSqlProps {
  readonly name: string;
  readonly region: string;
  readonly role: CloudSqlRole;
  readonly networkSelfLink: string;
  readonly version: string;
  readonly sizes: GcpSizes;
  readonly deletionProtection: boolean;
  readonly labels: Record<string, string>;
}

/**
 * Cloud SQL PostgreSQL: regional HA, private IP only (Private Service Access),
 * TLS required. The primary keeps backups with PITR; other regions run a
 * cross-region replica that can be promoted.
 */
export class CloudSql extends Construct {
  readonly instance: SqlDatabaseInstance;
  readonly password?: Password;

  constructor(scope: Construct, id: string, props: CloudSqlProps) {
    super(scope, id);
    const primary = props.role.kind === "primary";
    this.instance = new SqlDatabaseInstance(this, "instance", {
      name: props.name,
      region: props.region,
      databaseVersion: props.version,
      deletionProtection: props.deletionProtection,
      masterInstanceName: props.role.kind === "replica" ? props.role.primaryInstanceName : undefined,
      replicaConfiguration: primary ? undefined : { failoverTarget: false },
      settings: {
        tier: props.sizes.dbTier,
        edition: "ENTERPRISE",
        availabilityType: "REGIONAL",
        diskType: "PD_SSD",
        diskSize: props.sizes.dbDiskGiB,
        diskAutoresize: true,
        deletionProtectionEnabled: props.deletionProtection,
        userLabels: props.labels,
        ipConfiguration: {
          ipv4Enabled: false,
          privateNetwork: props.networkSelfLink,
          sslMode: "ENCRYPTED_ONLY",
        },
        // Replicas cannot run their own backups; they get them once promoted.
        backupConfiguration: primary
          ? {
              enabled: true,
              pointInTimeRecoveryEnabled: true,
              transactionLogRetentionDays: 7,
              startTime: "02:00",
              backupRetentionSettings: { retainedBackups: props.sizes.dbBackupRetentionDays, retentionUnit: "COUNT" },
            }
          : { enabled: false },
        databaseFlags: [{ name: "log_min_duration_statement", value: "1000" }],
        insightsConfig: { queryInsightsEnabled: true },
        maintenanceWindow: { day: 7, hour: 3, updateTrack: "stable" },
      },
      // A promoted replica drops master_instance_name; do not fight the promotion.
      lifecycle: primary ? undefined : { ignoreChanges: ["master_instance_name", "replica_configuration"] },
    });
    if (primary) {
      this.password = new Password(this, "password", { length: 40, special: false });
      new SqlDatabase(this, "database", { instance: this.instance.name, name: DB_NAME });
      new SqlUser(this, "user", { instance: this.instance.name, name: DB_USER, password: this.password.result });
    }
  }

  /** postgres:// URL over the private IP; sslmode=no-verify encrypts without pinning the instance CA. */
  connectionUrl(): string {
    if (!this.password) throw new Error("connectionUrl() is only available on the primary instance");
    return `postgres://${DB_USER}:${this.password.result}@${this.instance.privateIpAddress}:5432/${DB_NAME}?sslmode=no-verify`;
  }
}
