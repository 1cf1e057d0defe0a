/**
 * The server's secret environment variables (see the reference server's
 * README). Values in GENERATED_SECRETS are written by Terraform (connection
 * URLs holding passwords it has to create anyway); OPERATOR_SECRETS are
 * written once by an operator (README "Secrets bootstrap") and never pass
 * through Terraform state.
 */
export const OPERATOR_SECRETS = ["MANDATE_SECRET_PEPPER", "MANDATE_KEY_ENCRYPTION_KEY", "MANDATE_BOOTSTRAP_TOKEN"] as const;
export const GENERATED_SECRETS = ["DATABASE_URL", "REDIS_URL"] as const;
export type OperatorSecretName = (typeof OPERATOR_SECRETS)[number];
export type GeneratedSecretName = (typeof GENERATED_SECRETS)[number];
export type SecretEnvName = OperatorSecretName | GeneratedSecretName;
export const SECRET_ENV_NAMES: readonly SecretEnvName[] = [...OPERATOR_SECRETS, ...GENERATED_SECRETS];

/** "MANDATE_SECRET_PEPPER" -> "secret-pepper": the secret's name suffix in both clouds. */
export function secretSlug(env: SecretEnvName): string {
  return env.replace(/^MANDATE_/, "").toLowerCase().replace(/_/g, "-");
}

export const CONTAINER_PORT = 8080;
export const READINESS_PATH = "/health/ready";
export const LIVENESS_PATH = "/health";
