import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Construct } from "constructs";
import type { Namer } from "../naming";
import { READINESS_PATH } from "../server-env";

export interface RegionalDnsProps {
  readonly namer: Namer;
  readonly region: string;
  readonly zoneId: string;
  readonly hostname: string;
  readonly albDnsName: string;
  readonly albZoneId: string;
}

/**
 * This region's member of the latency-routed record set. Every region adds
 * its own record (same name, set identifier = region), so the set grows and
 * shrinks with the stacks; an unhealthy region drops out of answers.
 */
export class RegionalDns extends Construct {
  readonly healthCheck: Route53HealthCheck;
  readonly record: Route53Record;

  constructor(scope: Construct, id: string, props: RegionalDnsProps) {
    super(scope, id);
    // Probe the regional ALB directly: probing the shared name would test whichever region answers.
    this.healthCheck = new Route53HealthCheck(this, "health", {
      type: "HTTPS",
      fqdn: props.albDnsName,
      port: 443,
      resourcePath: READINESS_PATH,
      enableSni: true,
      requestInterval: 30,
      failureThreshold: 3,
      measureLatency: true,
      tags: { Name: props.namer.name("health") },
    });
    this.record = new Route53Record(this, "latency", {
      zoneId: props.zoneId,
      name: props.hostname,
      type: "A",
      setIdentifier: props.region,
      latencyRoutingPolicy: { region: props.region },
      healthCheckId: this.healthCheck.id,
      alias: { name: props.albDnsName, zoneId: props.albZoneId, evaluateTargetHealth: true },
    });
  }
}
