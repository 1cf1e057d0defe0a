import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Construct } from "constructs";

import { GENERATED_SECRETS, type GeneratedSecretName, OPERATOR_SECRETS, type SecretEnvName, secretSlug } from "../server-env";

export interface ServiceSecretsProps {
  /** Secret names become "<prefix>/<slug>". */
  readonly prefix: string;
  readonly kmsKeyArn: string;
  readonly generated: Record<GeneratedSecretName, string>;
}

/**
 * Secrets Manager secrets (KMS-encrypted) for every secret env var of the
 * server. Terraform writes only the generated ones; see server-env.ts.
 */
export class ServiceSecrets extends Construct {
  /** Env var name -> secret ARN, ready for a container definition's `secrets`. */
  readonly arns = {} as Record<SecretEnvName, string>;

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    const create = (env: SecretEnvName, description: string): SecretsmanagerSecret => {
      const secret = new SecretsmanagerSecret(this, secretSlug(env), {
        name: `${props.prefix}/${secretSlug(env)}`,
        description,
        kmsKeyId: props.kmsKeyArn,
        recoveryWindowInDays: 7,
      });
      this.arns[env] = secret.arn;
      return secret;
    };
    for (const env of OPERATOR_SECRETS) {
      create(env, `${env} for the Mandate server; value set by an operator, not by Terraform`);
    }
    for (const env of GENERATED_SECRETS) {
      const secret = create(env, `${env} for the Mandate server; value managed by Terraform`);
      new SecretsmanagerSecretVersion(this, `${secretSlug(env)}-value`, {
        secretId: secret.id,
        secretString: props.generated[env],
      });
    }
  }
}
