import { ComputeSecurityPolicy } from "@cdktf/provider-google/lib/compute-security-policy";
import { RedisInstance } from "@cdktf/provider-google/lib/redis-instance";
import { gcpStackName } from "../src/naming";
import { SECRET_ENV_NAMES } from "../src/server-env";
import { testConfig } from "./fixtures";
import { type SynthesizedStack, type Synthesized, only, onlyId, ref, resources, stackJson, synthApp } from "./synth";

const config = testConfig();
const gcp = config.gcp!;
const nameOf = (part: string): string => gcpStackName(config.appName, config.environment, part);

let synth: Synthesized;
beforeAll(() => {
  // GCP stacks only: the AWS half is covered by aws.test.ts.
  synth = synthApp({ ...config, aws: undefined });
});
const stackFor = (part: string): SynthesizedStack => stackJson(synth, nameOf(part));

type Env = { name: string; value?: string; value_source?: { secret_key_ref: { secret: string; version: string } } };
type Template = {
  scaling: { min_instance_count: number; max_instance_count: number };
  vpc_access: { egress: string; network_interfaces: { network: string; subnetwork: string }[] };
  containers: { env: Env[]; startup_probe: { http_get: { path: string } } }[];
};

describe.each(gcp.regions.map((r, i) => [r.region, i] as const))("GCP region %s", (region, index) => {
  const isPrimary = index === 0;

  it("keeps state in GCS under a per-stack prefix", () => {
    expect(stackFor(region).tf.terraform.backend?.gcs).toEqual({ bucket: gcp.state.bucket, prefix: `${gcp.state.prefix}/${region}` });
  });

  it("runs Cloud Run with at least two instances, VPC egress and LB-only ingress", () => {
    const stack = stackFor(region);
    const service = only(stack, "google_cloud_run_v2_service");
    expect(service).toMatchObject({ location: region, ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" });
    const template = service.template as Template;
    expect(template.scaling.min_instance_count).toBeGreaterThanOrEqual(2);
    expect(template.scaling.min_instance_count).toBe(gcp.sizes.minInstances);
    expect(template.vpc_access.network_interfaces).toEqual([
      { network: `projects/${gcp.projectId}/global/networks/${config.appName}-${config.environment}`, subnetwork: ref("google_compute_subnetwork", onlyId(stack, "google_compute_subnetwork"), "self_link") },
    ]);
    expect(template.containers[0]!.startup_probe.http_get.path).toBe("/health/ready");
    expect(only(stack, "google_compute_subnetwork")).toMatchObject({ ip_cidr_range: gcp.regions[index]!.subnetCidr, region });
  });

  it("reads every secret from Secret Manager, never from a plain value", () => {
    const stack = stackFor(region);
    const env = (only(stack, "google_cloud_run_v2_service").template as Template).containers[0]!.env;
    const plain = env.filter((e) => e.value !== undefined);
    expect(plain.map((e) => e.name)).toContain("MANDATE_ISSUER");
    expect(plain.filter((e) => (SECRET_ENV_NAMES as readonly string[]).includes(e.name))).toEqual([]);
    for (const { value } of plain) expect(value).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\/|mdt_pat_|random_password|auth_string/i);
    const fromSecrets = env.filter((e) => e.value_source);
    expect(fromSecrets.map((e) => e.name).sort()).toEqual([...SECRET_ENV_NAMES].sort());
    expect(fromSecrets.every((e) => e.value === undefined && e.value_source!.secret_key_ref.version === "latest")).toBe(true);
  });

  it("keeps Cloud SQL private, TLS-only and highly available", () => {
    const stack = stackFor(region);
    const db = only(stack, "google_sql_database_instance");
    const settings = db.settings as Record<string, Record<string, unknown> | string>;
    expect(settings.availability_type).toBe("REGIONAL");
    expect(settings.ip_configuration).toEqual(
      expect.objectContaining({ ipv4_enabled: false, ssl_mode: "ENCRYPTED_ONLY", private_network: expect.stringContaining("/global/networks/") }),
    );
    expect(JSON.stringify(settings)).not.toContain("authorized_networks");
  });

  it(isPrimary ? "is the database primary with backups and PITR" : "replicates the first region's database", () => {
    const stack = stackFor(region);
    const db = only(stack, "google_sql_database_instance");
    const backups = (db.settings as { backup_configuration: Record<string, unknown> }).backup_configuration;
    if (isPrimary) {
      expect(db.master_instance_name).toBeUndefined();
      expect(backups).toMatchObject({ enabled: true, point_in_time_recovery_enabled: true });
      expect(resources(stack, "google_sql_user")).not.toEqual({});
      return;
    }
    const primaryDb = only(stackFor(gcp.regions[0]!.region), "google_sql_database_instance");
    expect(db.master_instance_name).toBe(primaryDb.name);
    expect(db.replica_configuration).toEqual({ failover_target: false });
    expect(resources(stack, "google_sql_user")).toEqual({});
  });

  it("runs Memorystore as STANDARD_HA with AUTH and TLS over private access", () => {
    const stack = stackFor(region);
    expect(stack.text).toHaveResourceWithProperties(RedisInstance, {
      region,
      tier: "STANDARD_HA",
      auth_enabled: true,
      transit_encryption_mode: "SERVER_AUTHENTICATION",
      connect_mode: "PRIVATE_SERVICE_ACCESS",
    });
    const urls = Object.values(resources(stack, "google_secret_manager_secret_version")).map((v) => v.secret_data as string);
    expect(urls.some((u) => u.startsWith("rediss://"))).toBe(true);
  });
});

describe("GCP global load balancer", () => {
  it("has a serverless NEG for every region's Cloud Run service behind one backend", () => {
    const edge = stackFor("edge");
    const negs = resources(edge, "google_compute_region_network_endpoint_group");
    const negRegions = Object.values(negs).map((n) => n.region);
    expect(negRegions.sort()).toEqual(gcp.regions.map((r) => r.region).sort());
    for (const r of gcp.regions) {
      const serviceName = only(stackFor(r.region), "google_cloud_run_v2_service").name;
      expect(Object.values(negs).find((n) => n.region === r.region)).toMatchObject({
        network_endpoint_type: "SERVERLESS",
        cloud_run: { service: serviceName },
      });
    }
    const backend = only(edge, "google_compute_backend_service");
    expect(backend).toMatchObject({ load_balancing_scheme: "EXTERNAL_MANAGED", protocol: "HTTPS" });
    expect((backend.backend as { group: string }[]).map((b) => b.group).sort()).toEqual(
      Object.keys(negs).map((id) => ref("google_compute_region_network_endpoint_group", id, "id")).sort(),
    );
  });

  it("terminates TLS with a managed certificate and redirects HTTP to HTTPS", () => {
    const edge = stackFor("edge");
    expect(only(edge, "google_compute_managed_ssl_certificate").managed).toEqual({ domains: [gcp.hostname] });
    expect(only(edge, "google_compute_ssl_policy")).toMatchObject({ min_tls_version: "TLS_1_2" });
    const rules = Object.values(resources(edge, "google_compute_global_forwarding_rule"));
    expect(rules.map((r) => r.port_range).sort()).toEqual(["443", "80"]);
    const maps = Object.values(resources(edge, "google_compute_url_map"));
    expect(maps.find((m) => m.default_url_redirect)?.default_url_redirect).toMatchObject({ https_redirect: true });
    expect(maps.find((m) => m.default_service)?.default_service).toBe(ref("google_compute_backend_service", onlyId(edge, "google_compute_backend_service"), "id"));
  });

  it("protects the backend with a Cloud Armor rate limit", () => {
    const edge = stackFor("edge");
    expect(edge.text).toHaveResourceWithProperties(ComputeSecurityPolicy, { type: "CLOUD_ARMOR" });
    const rules = only(edge, "google_compute_security_policy").rule as { action: string; rate_limit_options?: Record<string, unknown> }[];
    expect(rules.find((r) => r.action === "throttle")?.rate_limit_options).toMatchObject({
      enforce_on_key: "IP",
      rate_limit_threshold: { count: gcp.rateLimitPerMinute, interval_sec: 60 },
    });
    expect(only(edge, "google_compute_backend_service").security_policy).toBe(ref("google_compute_security_policy", onlyId(edge, "google_compute_security_policy"), "id"));
  });

  it("deploys base, then the primary region, then the others, then the edge", () => {
    const [base, primary, ...rest] = synth.stacks.gcp;
    const edge = rest.pop()!;
    expect(base!.node.id).toBe(nameOf("base"));
    expect(primary!.dependencies).toEqual([base]);
    for (const stack of rest) expect(stack.dependencies).toEqual(expect.arrayContaining([base, primary]));
    expect(edge.node.id).toBe(nameOf("edge"));
    expect(edge.dependencies).toHaveLength(gcp.regions.length);
  });
});
