import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Construct } from "constructs";
import type { Namer } from "../naming";
import { CONTAINER_PORT, READINESS_PATH } from "../server-env";
import { allowEgress, allowIngress, emptySecurityGroup } from "./security-group";


export interface LoadBalancerProps {
  readonly namer: Namer;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly publicSubnetIds: string[];
  readonly hostname: string;
  readonly zoneId: string;
  readonly deletionProtection: boolean;
}

/**
 * Internet-facing ALB: HTTPS only (HTTP answers with a 301), ACM certificate
 * validated through Route 53, targets checked on the readiness endpoint so a
 * task that lost its database or cache stops receiving traffic.
 */
export class LoadBalancer extends Construct {
  readonly alb: Lb;
  readonly targetGroup: LbTargetGroup;
  readonly securityGroup: SecurityGroup;
  readonly httpsListener: LbListener;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { namer } = props;
    this.securityGroup = emptySecurityGroup(this, "sg", namer.name("alb"), props.vpcId, "Public ALB");
    for (const port of [80, 443]) {
      allowIngress(this, `in-${port}-v4`, this.securityGroup.id, { port, peer: { cidr: "0.0.0.0/0" }, description: `Port ${port} from anywhere` });
    }
    allowEgress(this, "out-targets", this.securityGroup.id, {
      port: CONTAINER_PORT,
      peer: { cidr: props.vpcCidr },
      description: "To tasks",
    });

    this.alb = new Lb(this, "alb", {
      name: namer.name("alb"),
      loadBalancerType: "application",
      internal: false,
      subnets: props.publicSubnetIds,
      securityGroups: [this.securityGroup.id],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: props.deletionProtection,
      idleTimeout: 60,
    });

    this.targetGroup = new LbTargetGroup(this, "targets", {
      name: namer.name("tg"),
      port: CONTAINER_PORT,
      protocol: "HTTP",
      targetType: "ip",
      vpcId: props.vpcId,
      deregistrationDelay: "30",
      healthCheck: {
        enabled: true,
        path: READINESS_PATH,
        matcher: "200",
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
    });

    const certificate = new AcmCertificate(this, "certificate", {
      domainName: props.hostname,
      validationMethod: "DNS",
      lifecycle: { createBeforeDestroy: true },
    });
    const option = certificate.domainValidationOptions.get(0);
    // Identical in every region for the same name, hence allowOverwrite.
    const validationRecord = new Route53Record(this, "certificate-validation-record", {
      zoneId: props.zoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 300,
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(this, "certificate-validation", {
      certificateArn: certificate.arn,
      validationRecordFqdns: [validationRecord.fqdn],
    });

    this.httpsListener = new LbListener(this, "https", {
      loadBalancerArn: this.alb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: validation.certificateArn,
      defaultAction: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
    });
    new LbListener(this, "http-redirect", {
      loadBalancerArn: this.alb.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [
        { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
      ],
    });
  }
}
