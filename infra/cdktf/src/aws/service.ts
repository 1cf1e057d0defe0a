import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { AwsSizes } from "../config/types";
import type { Namer } from "../naming";
import { CONTAINER_PORT, LIVENESS_PATH, type SecretEnvName } from "../server-env";
import { allowEgress, allowIngress } from "./security-group";

export const CONTAINER_NAME = "server";

/**
 * Liveness probe run inside the container with node itself (the slim image
 * has no curl). It hits /health, not /health/ready: a task whose database is
 * down should leave the target group (ALB readiness check), not be killed and
 * restarted in a loop.
 */
export const LIVENESS_PROBE =
  `const r=require('http').get({host:'127.0.0.1',port:process.env.PORT||${CONTAINER_PORT},path:'${LIVENESS_PATH}',timeout:4000},` +
  "s=>process.exit(s.statusCode===200?0:1));r.on('error',()=>process.exit(1));r.on('timeout',()=>process.exit(1))";

export interface ServiceProps {
  readonly namer: Namer;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly image: string;
  readonly cpuArchitecture: "X86_64" | "ARM64";
  readonly sizes: AwsSizes;
  readonly issuer: string;
  /** "off" when regions have separate Redis: token state must then come from the database. */
  readonly tokenStateCache: "on" | "off";
  readonly ecsExec: boolean;
  readonly vpcCidr: string;
  readonly subnetIds: string[];
  readonly securityGroup: SecurityGroup;
  readonly albSecurityGroupId: string;
  /** CIDRs where a database this service talks to lives (own VPC, and the primary's when peered). */
  readonly databaseCidrs: string[];
  readonly targetGroupArn: string;
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly listener: LbListener;
  readonly logGroupName: string;
  readonly kmsKeyArn: string;
  readonly secretArns: Record<SecretEnvName, string>;
}

function ecsTasksTrust(accountId: string): string {
  return Fn.jsonencode({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}

/**
 * ECS Fargate service behind the ALB: at least `minTasks` tasks spread over
 * the app subnets, scaled on CPU and on requests per target, rolled back
 * automatically when a deployment never becomes healthy.
 */
export class Service extends Construct {
  readonly cluster: EcsCluster;
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;
  readonly scalingTarget: AppautoscalingTarget;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    const { namer, sizes } = props;
    const sg = props.securityGroup.id;
    allowIngress(this, "from-alb", sg, { port: CONTAINER_PORT, peer: { securityGroupId: props.albSecurityGroupId }, description: "HTTP from the ALB" });
    allowEgress(this, "to-https", sg, { port: 443, peer: { cidr: "0.0.0.0/0" }, description: "AWS APIs and image registries" });
    allowEgress(this, "to-redis", sg, { port: 6379, peer: { cidr: props.vpcCidr }, description: "Redis" });
    props.databaseCidrs.forEach((cidr, i) =>
      allowEgress(this, `to-postgres-${i}`, sg, { port: 5432, peer: { cidr }, description: "PostgreSQL" }),
    );

    this.cluster = new EcsCluster(this, "cluster", {
      name: namer.name(),
      setting: [{ name: "containerInsights", value: "enhanced" }],
      configuration: {
        executeCommandConfiguration: {
          kmsKeyId: props.kmsKeyArn,
          logging: "OVERRIDE",
          logConfiguration: { cloudWatchLogGroupName: props.logGroupName, cloudWatchEncryptionEnabled: true },
        },
      },
    });

    const execution = new IamRole(this, "execution-role", {
      name: namer.name("execution"),
      assumeRolePolicy: ecsTasksTrust(props.accountId),
    });
    new IamRolePolicyAttachment(this, "execution-managed", {
      role: execution.name,
      policyArn: `arn:${props.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
    });
    // Only the execution role (the ECS agent) reads secrets; the app never holds AWS credentials for them.
    new IamRolePolicy(this, "execution-secrets", {
      role: execution.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: Object.values(props.secretArns) },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: props.kmsKeyArn },
        ],
      }),
    });

    const task = new IamRole(this, "task-role", { name: namer.name("task"), assumeRolePolicy: ecsTasksTrust(props.accountId) });
    if (props.ecsExec) {
      new IamRolePolicy(this, "task-exec", {
        role: task.id,
        policy: Fn.jsonencode({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
              Resource: "*",
            },
            { Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: props.kmsKeyArn },
            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"], Resource: "*" },
          ],
        }),
      });
    }

    const secrets = (Object.keys(props.secretArns) as SecretEnvName[]).sort().map((name) => ({ name, valueFrom: props.secretArns[name] }));
    const container = {
      name: CONTAINER_NAME,
      image: props.image,
      essential: true,
      portMappings: [{ name: "http", containerPort: CONTAINER_PORT, protocol: "tcp" }],
      // Non-secret settings only; everything sensitive arrives through `secrets`.
      environment: [
        { name: "NODE_ENV", value: "production" },
        { name: "PORT", value: String(CONTAINER_PORT) },
        { name: "MANDATE_ISSUER", value: props.issuer },
        { name: "MANDATE_TOKEN_STATE_CACHE", value: props.tokenStateCache },
      ],
      secrets,
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": props.logGroupName,
          "awslogs-region": props.region,
          "awslogs-stream-prefix": CONTAINER_NAME,
          mode: "non-blocking",
          "max-buffer-size": "25m",
        },
      },
      healthCheck: { command: ["CMD", "node", "-e", LIVENESS_PROBE], interval: 15, timeout: 5, retries: 3, startPeriod: 60 },
      // ECS Exec's agent writes to the root filesystem, so read-only only without it.
      readonlyRootFilesystem: !props.ecsExec,
      mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: 30,
    };
    this.taskDefinition = new EcsTaskDefinition(this, "task", {
      family: namer.name(),
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(sizes.taskCpu),
      memory: String(sizes.taskMemoryMiB),
      executionRoleArn: execution.arn,
      taskRoleArn: task.arn,
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: props.cpuArchitecture },
      volume: [{ name: "tmp" }],
      // jsonencode rather than JSON.stringify: the HCL export mangles JSON strings holding references.
      containerDefinitions: Fn.jsonencode([container]),
    });

    this.service = new EcsService(this, "service", {
      name: namer.name(),
      cluster: this.cluster.arn,
      taskDefinition: this.taskDefinition.arn,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      desiredCount: sizes.minTasks,
      enableExecuteCommand: props.ecsExec,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      availabilityZoneRebalancing: "ENABLED",
      healthCheckGracePeriodSeconds: 60,
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      networkConfiguration: { subnets: props.subnetIds, securityGroups: [sg], assignPublicIp: false },
      loadBalancer: [{ targetGroupArn: props.targetGroupArn, containerName: CONTAINER_NAME, containerPort: CONTAINER_PORT }],
      waitForSteadyState: false,
      // Autoscaling owns the count after creation.
      lifecycle: { ignoreChanges: ["desired_count"] },
      // A target group can only be used once it is attached to a listener.
      dependsOn: [props.listener],
    });

    this.scalingTarget = new AppautoscalingTarget(this, "scaling", {
      serviceNamespace: "ecs",
      resourceId: `service/${this.cluster.name}/${this.service.name}`,
      scalableDimension: "ecs:service:DesiredCount",
      minCapacity: sizes.minTasks,
      maxCapacity: sizes.maxTasks,
    });
    new AppautoscalingPolicy(this, "scale-on-cpu", {
      name: namer.name("cpu"),
      policyType: "TargetTrackingScaling",
      serviceNamespace: this.scalingTarget.serviceNamespace,
      resourceId: this.scalingTarget.resourceId,
      scalableDimension: this.scalingTarget.scalableDimension,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: sizes.cpuTargetPercent,
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        scaleInCooldown: 300,
        scaleOutCooldown: 60,
      },
    });
    new AppautoscalingPolicy(this, "scale-on-requests", {
      name: namer.name("requests"),
      policyType: "TargetTrackingScaling",
      serviceNamespace: this.scalingTarget.serviceNamespace,
      resourceId: this.scalingTarget.resourceId,
      scalableDimension: this.scalingTarget.scalableDimension,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: sizes.requestsPerTargetPerMinute,
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: `${props.albArnSuffix}/${props.targetGroupArnSuffix}`,
        },
        scaleInCooldown: 300,
        scaleOutCooldown: 60,
      },
    });
  }
}
