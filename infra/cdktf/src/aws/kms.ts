import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { Namer } from "../naming";

export interface RegionKeyProps {
  readonly namer: Namer;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
}

/**
 * One customer-managed key per region encrypts RDS, ElastiCache, Secrets
 * Manager, CloudWatch Logs, SNS and ECS Exec sessions. CloudWatch Logs and SNS
 * cannot use a key unless its policy names them, hence the explicit policy.
 */
export class RegionKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: RegionKeyProps) {
    super(scope, id);
    const root = `arn:${props.partition}:iam::${props.accountId}:root`;
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministers",
          Effect: "Allow",
          Principal: { AWS: root },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Sid: "CloudWatchLogsEncrypts",
          Effect: "Allow",
          Principal: { Service: `logs.${props.region}.amazonaws.com` },
          Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
          Resource: "*",
          Condition: {
            ArnLike: {
              "kms:EncryptionContext:aws:logs:arn": `arn:${props.partition}:logs:${props.region}:${props.accountId}:*`,
            },
          },
        },
        {
          Sid: "AlarmsPublishToEncryptedTopic",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
        },
      ],
    };
    this.key = new KmsKey(this, "key", {
      description: `${props.namer.prefix} data at rest`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      // jsonencode, not JSON.stringify: the HCL export mangles JSON strings holding references.
      policy: Fn.jsonencode(policy),
    });
    new KmsAlias(this, "alias", { name: `alias/${props.namer.prefix}`, targetKeyId: this.key.keyId });
  }
}
