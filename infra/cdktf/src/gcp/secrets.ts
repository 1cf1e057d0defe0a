import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface SecretProps {
  readonly secretId: string;
  /** Regions holding replicas of the payload (user-managed replication keeps data in-region). */
  readonly locations: readonly string[];
  /** Service account allowed to read it. */
  readonly accessorEmail: string;
  /** When set, Terraform writes this value; otherwise an operator does. */
  readonly value?: string;
}

/** A Secret Manager secret readable by the server's service account. */
export class Secret extends Construct {
  readonly secret: SecretManagerSecret;
  /** What a consumer must wait for: the read grant and, when Terraform writes it, the value. */
  readonly ready: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: SecretProps) {
    super(scope, id);
    this.secret = new SecretManagerSecret(this, "secret", {
      secretId: props.secretId,
      replication: { userManaged: { replicas: props.locations.map((location) => ({ location })) } },
    });
    const accessor = new SecretManagerSecretIamMember(this, "accessor", {
      secretId: this.secret.id,
      role: "roles/secretmanager.secretAccessor",
      member: `serviceAccount:${props.accessorEmail}`,
    });
    this.ready = [accessor];
    if (props.value !== undefined) {
      this.ready.push(new SecretManagerSecretVersion(this, "value", { secret: this.secret.id, secretData: props.value }));
    }
  }
}

/** Secret ids are deterministic so region stacks can name base-stack secrets without remote state. */
export function gcpSecretId(prefix: string, slug: string): string {
  return `${prefix}-${slug}`;
}
