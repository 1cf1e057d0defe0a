import { CloudRunV2Service } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { GcpSizes } from "../config/types";
import { CONTAINER_PORT, LIVENESS_PATH, READINESS_PATH, type SecretEnvName } from "../server-env";

export const CA_MOUNT_DIR = "/etc/mandate/ca";
export const CA_FILE = "redis-ca.pem";

export interface CloudRunServiceProps {
  readonly name: string;
  readonly region: string;
  readonly image: string;
  readonly issuer: string;
  /** "off" when regions have separate Redis: token state must then come from the database. */
  readonly tokenStateCache: "on" | "off";
  readonly serviceAccountEmail: string;
  readonly networkSelfLink: string;
  readonly subnetworkSelfLink: string;
  readonly sizes: GcpSizes;
  readonly deletionProtection: boolean;
  /** Env var -> Secret Manager secret id. */
  readonly secretIds: Record<SecretEnvName, string>;
  /** Secret holding the Memorystore CA, mounted as a file. */
  readonly caSecretId: string;
  readonly labels: Record<string, string>;
  /** Secret versions and IAM grants the first revision needs. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * Cloud Run v2 service reachable only through the global load balancer
 * (internal-and-LB ingress). Direct VPC egress reaches Cloud SQL and
 * Memorystore on private IPs; secrets are Secret Manager references.
 */
export class CloudRunService extends Construct {
  readonly service: CloudRunV2Service;

  constructor(scope: Construct, id: string, props: CloudRunServiceProps) {
    super(scope, id);
    const secretEnv = (Object.keys(props.secretIds) as SecretEnvName[]).sort().map((name) => ({
      name,
      valueSource: { secretKeyRef: { secret: props.secretIds[name], version: "latest" } },
    }));
    this.service = new CloudRunV2Service(this, "service", {
      name: props.name,
      location: props.region,
      ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
      // Authentication is the server's job (OAuth); the LB must reach it anonymously.
      invokerIamDisabled: true,
      deletionProtection: props.deletionProtection,
      labels: props.labels,
      template: {
        serviceAccount: props.serviceAccountEmail,
        executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
        maxInstanceRequestConcurrency: props.sizes.concurrency,
        scaling: { minInstanceCount: props.sizes.minInstances, maxInstanceCount: props.sizes.maxInstances },
        vpcAccess: {
          networkInterfaces: [{ network: props.networkSelfLink, subnetwork: props.subnetworkSelfLink }],
          egress: "PRIVATE_RANGES_ONLY",
        },
        labels: props.labels,
        containers: [
          {
            name: "server",
            image: props.image,
            // Cloud Run sets PORT itself from containerPort; it rejects PORT in env.
            ports: { name: "http1", containerPort: CONTAINER_PORT },
            env: [
              { name: "NODE_ENV", value: "production" },
              { name: "MANDATE_ISSUER", value: props.issuer },
              { name: "MANDATE_TOKEN_STATE_CACHE", value: props.tokenStateCache },
              { name: "NODE_EXTRA_CA_CERTS", value: `${CA_MOUNT_DIR}/${CA_FILE}` },
              ...secretEnv,
            ],
            resources: { limits: { cpu: props.sizes.cpu, memory: props.sizes.memory }, cpuIdle: false, startupCpuBoost: true },
            // A revision only takes traffic once it reaches its database and cache.
            startupProbe: {
              httpGet: { path: READINESS_PATH, port: CONTAINER_PORT },
              initialDelaySeconds: 2,
              periodSeconds: 5,
              timeoutSeconds: 3,
              failureThreshold: 24,
            },
            livenessProbe: {
              httpGet: { path: LIVENESS_PATH, port: CONTAINER_PORT },
              periodSeconds: 15,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            volumeMounts: [{ name: "tls-ca", mountPath: CA_MOUNT_DIR }],
          },
        ],
        volumes: [{ name: "tls-ca", secret: { secret: props.caSecretId, items: [{ version: "latest", path: CA_FILE }] } }],
      },
      dependsOn: props.dependsOn,
    });
  }
}
