import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Password } from "@cdktf/provider-random/lib/password";
import { Construct } from "constructs";
import type { AwsSizes } from "../config/types";
import type { Namer } from "../naming";
import { allowIngress, emptySecurityGroup } from "./security-group";

export const DB_PORT = 5432;
export const DB_NAME = "mandate";
export const DB_USER = "mandate";

export type DatabaseRole = { readonly kind: "primary" } | { readonly kind: "replica"; readonly sourceArn: string };

export interface DatabaseProps {
  readonly namer: Namer;
  readonly role: DatabaseRole;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** Security group of the tasks that may connect. */
  readonly clientSecurityGroupId: string;
  readonly kmsKeyArn: string;
  readonly postgresVersion: string;
  readonly sizes: AwsSizes;
  readonly deletionProtection: boolean;
}

/**
 * RDS PostgreSQL: Multi-AZ, KMS-encrypted, private, TLS enforced. The primary
 * keeps automated backups (which is what enables PITR); a replica in another
 * region follows the primary's ARN and keeps its own backups so it is ready
 * to be promoted.
 */
export class Database extends Construct {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  /** Only on the primary: the master password (random, alphanumeric so it is URL-safe). */
  readonly password?: Password;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { namer, sizes } = props;
    const major = props.postgresVersion.split(".")[0];
    this.securityGroup = emptySecurityGroup(this, "sg", namer.name("db"), props.vpcId, "PostgreSQL");
    allowIngress(this, "from-service", this.securityGroup.id, {
      port: DB_PORT,
      peer: { securityGroupId: props.clientSecurityGroupId },
      description: "PostgreSQL from the Mandate service",
    });
    const subnets = new DbSubnetGroup(this, "subnets", { name: namer.name("db"), subnetIds: props.subnetIds });
    const parameters = new DbParameterGroup(this, "params", {
      // A prefix, not a name: create-before-destroy needs two groups to coexist.
      namePrefix: `${namer.name(`pg${major}`)}-`,
      family: `postgres${major}`,
      description: "Mandate: TLS required",
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    const common = {
      identifier: namer.name("db"),
      instanceClass: sizes.dbInstanceClass,
      multiAz: true,
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      storageType: "gp3",
      maxAllocatedStorage: sizes.dbMaxAllocatedStorageGiB,
      publiclyAccessible: false,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: parameters.name,
      backupRetentionPeriod: sizes.dbBackupRetentionDays,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:03:30-sun:04:30",
      caCertIdentifier: "rds-ca-rsa2048-g1",
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: props.kmsKeyArn,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection,
      deleteAutomatedBackups: false,
    };

    if (props.role.kind === "primary") {
      this.password = new Password(this, "password", { length: 40, special: false });
      this.instance = new DbInstance(this, "instance", {
        ...common,
        engine: "postgres",
        engineVersion: props.postgresVersion,
        allocatedStorage: sizes.dbAllocatedStorageGiB,
        dbName: DB_NAME,
        username: DB_USER,
        password: this.password.result,
        iamDatabaseAuthenticationEnabled: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: namer.name("db-final"),
      });
    } else {
      // Engine, version, user and storage size are inherited from the source.
      this.instance = new DbInstance(this, "instance", {
        ...common,
        replicateSourceDb: props.role.sourceArn,
        // A replica cannot take a final snapshot; promote it first if its data matters.
        skipFinalSnapshot: true,
        // Failover promotes with the RDS API (README); ignoring the source keeps
        // the next plan from trying to turn a promoted instance back into a replica.
        lifecycle: { ignoreChanges: ["replicate_source_db"] },
      });
    }
  }

  /**
   * postgres:// URL for the server (primary only: replicas share its user).
   * sslmode=no-verify encrypts but does not pin the RDS CA (README, "Known gaps").
   */
  connectionUrl(): string {
    if (!this.password) throw new Error("connectionUrl() is only available on the primary database");
    return `postgres://${DB_USER}:${this.password.result}@${this.instance.address}:${DB_PORT}/${DB_NAME}?sslmode=no-verify`;
  }
}
