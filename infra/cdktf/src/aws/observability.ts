import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import type { AwsAlarmThresholds } from "../config/types";
import type { Namer } from "../naming";

export interface ObservabilityProps {
  readonly namer: Namer;
  readonly kmsKeyArn: string;
  readonly retentionDays: number;
  readonly thresholds: AwsAlarmThresholds;
  readonly alarmEmail?: string;
  /** ALB and target group `arn_suffix` values (CloudWatch dimensions). */
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly clusterName: string;
  readonly serviceName: string;
}

/**
 * Logs and the alarms that page: error rate, tail latency and saturation.
 * Alarms publish to a KMS-encrypted SNS topic; subscribe paging tools to it.
 */
export class Observability extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { namer, thresholds } = props;
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/${namer.appName}/${namer.environment}/server`,
      retentionInDays: props.retentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.topic = new SnsTopic(this, "alarms", { name: namer.name("alarms"), kmsMasterKeyId: props.kmsKeyArn });
    if (props.alarmEmail) {
      new SnsTopicSubscription(this, "alarm-email", { topicArn: this.topic.arn, protocol: "email", endpoint: props.alarmEmail });
    }
    const actions = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    const alb = { LoadBalancer: props.albArnSuffix };

    // 5xx from targets and from the ALB itself, as a share of all requests.
    this.alarms.push(
      new CloudwatchMetricAlarm(this, "http-5xx-rate", {
        alarmName: namer.name("http-5xx-rate"),
        alarmDescription: `More than ${thresholds.http5xxPercent}% of requests answered 5xx`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: thresholds.http5xxPercent,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: "notBreaching",
        metricQuery: [
          { id: "rate", expression: "100 * (FILL(t5xx,0) + FILL(e5xx,0)) / FILL(requests,1)", label: "5xx %", returnData: true },
          { id: "t5xx", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: alb, period: 300, stat: "Sum" } },
          { id: "e5xx", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", dimensions: alb, period: 300, stat: "Sum" } },
          { id: "requests", metric: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: alb, period: 300, stat: "Sum" } },
        ],
        ...actions,
      }),
      new CloudwatchMetricAlarm(this, "p99-latency", {
        alarmName: namer.name("p99-latency"),
        alarmDescription: `p99 target response time above ${thresholds.p99LatencySeconds}s`,
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        dimensions: { ...alb, TargetGroup: props.targetGroupArnSuffix },
        extendedStatistic: "p99",
        period: 300,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        threshold: thresholds.p99LatencySeconds,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        ...actions,
      }),
      new CloudwatchMetricAlarm(this, "cpu", {
        alarmName: namer.name("cpu"),
        alarmDescription: `Service CPU above ${thresholds.cpuPercent}% (autoscaling is not keeping up)`,
        namespace: "AWS/ECS",
        metricName: "CPUUtilization",
        dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceName },
        statistic: "Average",
        period: 300,
        evaluationPeriods: 3,
        threshold: thresholds.cpuPercent,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "breaching",
        ...actions,
      }),
    );
  }
}
