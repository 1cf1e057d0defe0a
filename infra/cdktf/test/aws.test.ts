import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { SECRET_ENV_NAMES } from "../src/server-env";
import { awsStackName } from "../src/naming";
import { testConfig } from "./fixtures";
import { type SynthesizedStack, type Synthesized, decodeJsonencode, only, onlyId, ref, resources, stackJson, synthApp } from "./synth";

const config = testConfig();
const aws = config.aws!;
const [primaryRegion, ...secondaryRegions] = aws.regions;
const nameOf = (region: string): string => awsStackName(config.appName, config.environment, region);

let synth: Synthesized;
beforeAll(() => {
  // AWS stacks only: the GCP half is covered by gcp.test.ts.
  synth = synthApp({ ...config, gcp: undefined });
});
const stackFor = (region: string): SynthesizedStack => stackJson(synth, nameOf(region));

type Container = {
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  healthCheck: { command: string[] };
  readonlyRootFilesystem: boolean;
};
function containers(stack: SynthesizedStack): Container[] {
  return decodeJsonencode(only(stack, "aws_ecs_task_definition").container_definitions as string) as Container[];
}

/** Ids of subnets referenced by "${aws_subnet.<id>.id}" strings. */
function subnetIds(refs: unknown): string[] {
  return (refs as string[]).map((r) => /\$\{aws_subnet\.([^.]+)\.id\}/.exec(r)?.[1] ?? `unparsed:${r}`);
}

/** Route table each subnet is associated with, then every route in those tables. */
function routesOfSubnets(stack: SynthesizedStack, ids: string[]): Record<string, unknown>[] {
  const associations = Object.values(resources(stack, "aws_route_table_association"));
  const tables = ids.map((id) => {
    const assoc = associations.find((a) => a.subnet_id === ref("aws_subnet", id, "id"));
    if (!assoc) throw new Error(`subnet ${id} has no route table association`);
    return assoc.route_table_id as string;
  });
  return Object.values(resources(stack, "aws_route")).filter((r) => tables.includes(r.route_table_id as string));
}

describe.each(aws.regions.map((r, i) => [r.region, i] as const))("AWS region %s", (region, index) => {
  const isPrimary = index === 0;

  it("keeps state in a locked, encrypted S3 backend", () => {
    const stack = stackFor(region);
    expect(stack.tf.terraform.backend?.s3).toMatchObject({
      bucket: aws.state.bucket,
      key: `${config.appName}/${config.environment}/aws/${region}.tfstate`,
      encrypt: true,
      use_lockfile: true,
    });
  });

  it("builds a VPC over three AZs with private app and data subnets and VPC endpoints", () => {
    const stack = stackFor(region);
    expect(stack.text).toHaveResourceWithProperties(Vpc, {
      cidr_block: aws.regions[index]!.vpcCidr,
      enable_dns_hostnames: true,
    });
    const subnets = Object.values(resources(stack, "aws_subnet"));
    expect(subnets).toHaveLength(9);
    for (const tier of ["public", "app", "data"]) {
      const tierSubnets = subnets.filter((s) => (s.tags as Record<string, string>).tier === tier);
      expect(new Set(tierSubnets.map((s) => s.availability_zone)).size).toBe(3);
    }
    expect(subnets.every((s) => s.map_public_ip_on_launch !== true)).toBe(true);
    const endpoints = Object.values(resources(stack, "aws_vpc_endpoint")).map((e) => e.service_name);
    for (const service of ["s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssmmessages", "kms"]) {
      expect(endpoints).toContain(`com.amazonaws.${region}.${service}`);
    }
  });

  it("runs at least two Fargate tasks behind the ALB, scaled on CPU and requests, with ECS Exec", () => {
    const stack = stackFor(region);
    const service = only(stack, "aws_ecs_service");
    expect(service).toMatchObject({ launch_type: "FARGATE", enable_execute_command: true });
    expect(service.desired_count as number).toBeGreaterThanOrEqual(2);
    expect(service.network_configuration).toMatchObject({ assign_public_ip: false });
    expect(service.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    const target = only(stack, "aws_appautoscaling_target");
    expect(target.min_capacity as number).toBeGreaterThanOrEqual(2);
    expect(target).toMatchObject({ min_capacity: aws.sizes.minTasks, max_capacity: aws.sizes.maxTasks });
    const metrics = Object.values(resources(stack, "aws_appautoscaling_policy")).map(
      (p) => (p.target_tracking_scaling_policy_configuration as { predefined_metric_specification: Record<string, string> }).predefined_metric_specification,
    );
    expect(metrics.map((m) => m.predefined_metric_type).sort()).toEqual(["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]);
    const albId = onlyId(stack, "aws_lb");
    const tgId = onlyId(stack, "aws_lb_target_group");
    expect(metrics.find((m) => m.resource_label)?.resource_label).toBe(
      `${ref("aws_lb", albId, "arn_suffix")}/${ref("aws_lb_target_group", tgId, "arn_suffix")}`,
    );
    expect(stack.text).toHaveResourceWithProperties(EcsCluster, {
      configuration: expect.objectContaining({ execute_command_configuration: expect.objectContaining({ logging: "OVERRIDE" }) }),
    });
  });

  it("checks readiness on /health/ready and serves HTTPS only, redirecting HTTP", () => {
    const stack = stackFor(region);
    expect(only(stack, "aws_lb_target_group").health_check).toMatchObject({ path: "/health/ready", matcher: "200" });
    const listeners = Object.values(resources(stack, "aws_lb_listener"));
    expect(listeners).toHaveLength(2);
    const https = listeners.find((l) => l.port === 443);
    expect(https).toMatchObject({ protocol: "HTTPS", ssl_policy: expect.stringMatching(/^ELBSecurityPolicy-TLS13/) });
    expect(https?.certificate_arn).toContain("aws_acm_certificate_validation");
    const http = listeners.find((l) => l.port === 80);
    expect(http?.default_action).toEqual([{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", status_code: "HTTP_301" } }]);
    expect(only(stack, "aws_acm_certificate")).toMatchObject({ domain_name: aws.hostname, validation_method: "DNS" });
  });

  it("attaches a WAFv2 ACL with a per-IP rate-based rule to the ALB", () => {
    const stack = stackFor(region);
    const acl = only(stack, "aws_wafv2_web_acl");
    expect(acl.scope).toBe("REGIONAL");
    const rules = JSON.parse(acl.rule_json as string) as { Statement: Record<string, Record<string, unknown>>; Action?: unknown }[];
    const rate = rules.find((r) => r.Statement.RateBasedStatement);
    expect(rate?.Statement.RateBasedStatement).toMatchObject({ Limit: config.wafRateLimitPer5Min, AggregateKeyType: "IP" });
    expect(rate?.Action).toEqual({ Block: {} });
    expect(only(stack, "aws_wafv2_web_acl_association")).toEqual(
      expect.objectContaining({
        resource_arn: ref("aws_lb", onlyId(stack, "aws_lb"), "arn"),
        web_acl_arn: ref("aws_wafv2_web_acl", onlyId(stack, "aws_wafv2_web_acl"), "arn"),
      }),
    );
  });

  it("keeps the database and cache private", () => {
    const stack = stackFor(region);
    const db = only(stack, "aws_db_instance");
    expect(db.publicly_accessible).toBe(false);
    const dbSubnets = subnetIds(only(stack, "aws_db_subnet_group").subnet_ids);
    const cacheSubnets = subnetIds(only(stack, "aws_elasticache_subnet_group").subnet_ids);
    for (const ids of [dbSubnets, cacheSubnets]) {
      expect(ids).toHaveLength(3);
      // No route of the data tier leads to an internet or NAT gateway.
      const routes = routesOfSubnets(stack, ids);
      expect(routes.filter((r) => r.gateway_id || r.nat_gateway_id)).toEqual([]);
    }
    // Only the ALB accepts traffic from the internet.
    const albSg = ref("aws_security_group", Object.keys(resources(stack, "aws_security_group")).find((k) => k.includes("load-balancer"))!, "id");
    const open = Object.values(resources(stack, "aws_vpc_security_group_ingress_rule")).filter(
      (r) => r.cidr_ipv4 === "0.0.0.0/0" || r.cidr_ipv6 === "::/0",
    );
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((r) => r.security_group_id === albSg)).toBe(true);
  });

  it("encrypts at rest and in transit", () => {
    const stack = stackFor(region);
    const keyRef = ref("aws_kms_key", onlyId(stack, "aws_kms_key"), "arn");
    expect(only(stack, "aws_kms_key").enable_key_rotation).toBe(true);
    expect(only(stack, "aws_db_instance")).toMatchObject({ storage_encrypted: true, kms_key_id: keyRef, performance_insights_kms_key_id: keyRef });
    expect(only(stack, "aws_db_parameter_group").parameter).toEqual(expect.arrayContaining([{ name: "rds.force_ssl", value: "1" }]));
    expect(only(stack, "aws_elasticache_replication_group")).toMatchObject({
      at_rest_encryption_enabled: "true",
      kms_key_id: keyRef,
      transit_encryption_enabled: true,
      transit_encryption_mode: "required",
      auth_token: expect.stringContaining("random_password"),
      automatic_failover_enabled: true,
      multi_az_enabled: true,
      num_cache_clusters: 1 + aws.sizes.cacheReplicas,
    });
    const secrets = Object.values(resources(stack, "aws_secretsmanager_secret"));
    expect(secrets).toHaveLength(SECRET_ENV_NAMES.length);
    expect(secrets.every((s) => s.kms_key_id === keyRef)).toBe(true);
    expect(only(stack, "aws_cloudwatch_log_group")).toMatchObject({ kms_key_id: keyRef, retention_in_days: aws.sizes.logRetentionDays });
    expect(only(stack, "aws_sns_topic").kms_master_key_id).toBe(keyRef);
    expect(only(stack, "aws_ecs_cluster").configuration).toMatchObject({ execute_command_configuration: { kms_key_id: keyRef } });
    // Connection URLs the server receives use TLS.
    const urls = Object.values(resources(stack, "aws_secretsmanager_secret_version")).map((v) => v.secret_string as string);
    expect(urls.some((u) => u.startsWith("rediss://"))).toBe(true);
    expect(urls.some((u) => u.startsWith("postgres://") && u.includes("sslmode="))).toBe(true);
  });

  it("passes every secret through Secrets Manager, never as a plain environment value", () => {
    const stack = stackFor(region);
    const taskDef = only(stack, "aws_ecs_task_definition");
    const [container] = containers(stack);
    const envNames = container!.environment.map((e) => e.name);
    expect(envNames).toEqual(expect.arrayContaining(["PORT", "MANDATE_ISSUER"]));
    expect(envNames.filter((n) => (SECRET_ENV_NAMES as readonly string[]).includes(n))).toEqual([]);
    for (const { value } of container!.environment) {
      expect(value).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\/|mdt_pat_|random_password|password|secret_string/i);
    }
    const secretRefs = Object.keys(resources(stack, "aws_secretsmanager_secret")).map((id) => ref("aws_secretsmanager_secret", id, "arn"));
    expect(container!.secrets.map((s) => s.name).sort()).toEqual([...SECRET_ENV_NAMES].sort());
    expect(container!.secrets.every((s) => secretRefs.includes(s.valueFrom))).toBe(true);
    expect(JSON.stringify(taskDef)).not.toMatch(/random_password|secret_string|auth_token/);
    expect(container!.healthCheck.command.slice(0, 2)).toEqual(["CMD", "node"]);
  });

  it("exposes logs with retention, and alarms on 5xx rate, p99 latency and CPU", () => {
    const stack = stackFor(region);
    const alarms = Object.values(resources(stack, "aws_cloudwatch_metric_alarm"));
    const byName = (suffix: string): Record<string, unknown> | undefined => alarms.find((a) => (a.alarm_name as string).endsWith(suffix));
    expect(JSON.stringify(byName("http-5xx-rate")?.metric_query)).toContain("HTTPCode_Target_5XX_Count");
    expect(byName("p99-latency")).toMatchObject({ extended_statistic: "p99", threshold: aws.alarms.p99LatencySeconds });
    expect(byName("cpu")).toMatchObject({ namespace: "AWS/ECS", metric_name: "CPUUtilization", threshold: aws.alarms.cpuPercent });
    expect(Object.keys(stack.tf.output ?? {})).toEqual(expect.arrayContaining(["service_url", "database_endpoint", "log_group"]));
  });

  it(isPrimary ? "is the database primary with backups for PITR" : "replicates the first region's database", () => {
    const stack = stackFor(region);
    const db = only(stack, "aws_db_instance");
    expect(db.multi_az).toBe(true);
    expect(db.backup_retention_period as number).toBeGreaterThanOrEqual(7);
    if (isPrimary) {
      expect(db.replicate_source_db).toBeUndefined();
      expect(db).toMatchObject({ engine: "postgres", deletion_protection: true, skip_final_snapshot: false });
      return;
    }
    // The source is a remote-state output of the primary stack; follow it back to its value.
    const source = db.replicate_source_db as string;
    const match = /^\$\{data\.terraform_remote_state\.([^.]+)\.outputs\.([^}]+)\}$/.exec(source);
    expect(match).not.toBeNull();
    const remote = stack.tf.data?.terraform_remote_state?.[match![1]!];
    expect(remote?.config).toMatchObject({ key: `${config.appName}/${config.environment}/aws/${primaryRegion!.region}.tfstate` });
    const primary = stackFor(primaryRegion!.region);
    expect(primary.tf.output?.[match![2]!]?.value).toBe(ref("aws_db_instance", onlyId(primary, "aws_db_instance"), "arn"));
    // Writes reach the primary over VPC peering.
    expect(only(stack, "aws_vpc_peering_connection")).toMatchObject({ peer_region: primaryRegion!.region, auto_accept: false });
    expect(only(stack, "aws_vpc_peering_connection_accepter")).toMatchObject({ provider: "aws.primary", auto_accept: true });
  });
});

describe("AWS global routing", () => {
  it("has one latency record with a health check per region, all under the same name", () => {
    const records = aws.regions.flatMap(({ region }) => {
      const stack = stackFor(region);
      const healthId = onlyId(stack, "aws_route53_health_check");
      expect(only(stack, "aws_route53_health_check")).toMatchObject({ type: "HTTPS", resource_path: "/health/ready" });
      return Object.values(resources(stack, "aws_route53_record"))
        .filter((r) => r.latency_routing_policy)
        .map((r) => {
          expect(r.health_check_id).toBe(ref("aws_route53_health_check", healthId, "id"));
          expect(r.alias).toMatchObject({ name: ref("aws_lb", onlyId(stack, "aws_lb"), "dns_name"), evaluate_target_health: true });
          return r;
        });
    });
    expect(records.map((r) => r.set_identifier)).toEqual(aws.regions.map((r) => r.region));
    expect(records.map((r) => (r.latency_routing_policy as { region: string }).region)).toEqual(aws.regions.map((r) => r.region));
    expect(new Set(records.map((r) => r.name))).toEqual(new Set([aws.hostname]));
  });

  it("deploys secondaries after the primary", () => {
    const [primary, ...others] = synth.stacks.aws;
    expect(others).toHaveLength(secondaryRegions.length);
    for (const stack of others) expect(stack.dependencies).toContain(primary);
  });
});
