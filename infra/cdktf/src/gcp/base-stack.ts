import { ComputeGlobalAddress } from "@cdktf/provider-google/lib/compute-global-address";
import { ComputeNetwork } from "@cdktf/provider-google/lib/compute-network";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ProjectService } from "@cdktf/provider-google/lib/project-service";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceNetworkingConnection } from "@cdktf/provider-google/lib/service-networking-connection";
import { GcsBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { parseCidr } from "../config/cidr";
import type { GcpConfig, MandateConfig } from "../config/types";
import { OPERATOR_SECRETS, secretSlug } from "../server-env";
import { requiredTags } from "../tagging";
import { Secret, gcpSecretId } from "./secrets";

const APIS = [
  "compute.googleapis.com",
  "run.googleapis.com",
  "sqladmin.googleapis.com",
  "redis.googleapis.com",
  "secretmanager.googleapis.com",
  "servicenetworking.googleapis.com",
  "dns.googleapis.com",
] as const;

export interface GcpBaseStackProps {
  readonly config: MandateConfig;
  readonly gcp: GcpConfig;
}

/** Names of global things that region stacks refer to by name. */
export function gcpGlobalNames(config: MandateConfig, gcp: GcpConfig): { prefix: string; network: string; networkSelfLink: string; serviceAccountEmail: string } {
  const prefix = `${config.appName}-${config.environment}`;
  return {
    prefix,
    network: prefix,
    networkSelfLink: `projects/${gcp.projectId}/global/networks/${prefix}`,
    serviceAccountEmail: `${prefix}-server@${gcp.projectId}.iam.gserviceaccount.com`,
  };
}

/** The database primary's region (validation guarantees there is one). */
export function gcpPrimaryRegion(gcp: GcpConfig): string {
  const first = gcp.regions[0];
  if (!first) throw new Error("gcp.regions is empty");
  return first.region;
}

export function gcpProvider(scope: Construct, config: MandateConfig, gcp: GcpConfig, region: string): GoogleProvider {
  return new GoogleProvider(scope, "google", { project: gcp.projectId, region, defaultLabels: requiredTags(config) });
}

export function gcpBackend(scope: Construct, gcp: GcpConfig, part: string): GcsBackend {
  return new GcsBackend(scope, { bucket: gcp.state.bucket, prefix: `${gcp.state.prefix}/${part}` });
}

/**
 * Global pieces every GCP region shares: APIs, the VPC (global in GCP),
 * Private Service Access for Cloud SQL and Memorystore, the server's service
 * account, and the secrets that are identical in every region.
 */
export class GcpBaseStack extends TerraformStack {
  readonly network: ComputeNetwork;
  readonly serviceAccount: ServiceAccount;
  readonly secrets: Record<string, Secret> = {};

  constructor(scope: Construct, id: string, props: GcpBaseStackProps) {
    super(scope, id);
    const { config, gcp } = props;
    const names = gcpGlobalNames(config, gcp);
    gcpProvider(this, config, gcp, gcpPrimaryRegion(gcp));
    gcpBackend(this, gcp, "base");

    const apis = APIS.map(
      (service) => new ProjectService(this, `api-${service.split(".")[0]}`, { service, disableOnDestroy: false }),
    );

    this.network = new ComputeNetwork(this, "network", {
      name: names.network,
      autoCreateSubnetworks: false,
      routingMode: "GLOBAL",
      dependsOn: apis,
    });
    const psa = parseCidr(gcp.privateServiceRange);
    const psaRange = new ComputeGlobalAddress(this, "private-service-range", {
      name: `${names.prefix}-psa`,
      purpose: "VPC_PEERING",
      addressType: "INTERNAL",
      address: gcp.privateServiceRange.split("/")[0],
      prefixLength: psa.prefix,
      network: this.network.id,
    });
    new ServiceNetworkingConnection(this, "private-service-access", {
      network: this.network.id,
      service: "servicenetworking.googleapis.com",
      reservedPeeringRanges: [psaRange.name],
    });

    this.serviceAccount = new ServiceAccount(this, "server-sa", {
      accountId: `${names.prefix}-server`,
      displayName: "Mandate server (Cloud Run)",
    });
    for (const role of ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/cloudtrace.agent"]) {
      new ProjectIamMember(this, `sa-${role.split("/")[1]?.replace(".", "-")}`, {
        project: gcp.projectId,
        role,
        member: `serviceAccount:${this.serviceAccount.email}`,
      });
    }

    // Shared by every region: DATABASE_URL (value written by the primary region
    // stack, which creates the password) and the operator-supplied secrets.
    const locations = gcp.regions.map((r) => r.region);
    for (const env of [...OPERATOR_SECRETS, "DATABASE_URL"] as const) {
      this.secrets[env] = new Secret(this, `secret-${secretSlug(env)}`, {
        secretId: gcpSecretId(names.prefix, secretSlug(env)),
        locations,
        accessorEmail: this.serviceAccount.email,
      });
    }

    new TerraformOutput(this, "network_self_link", { value: this.network.selfLink });
    new TerraformOutput(this, "service_account", { value: this.serviceAccount.email });
  }
}
