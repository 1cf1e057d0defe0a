import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { subnet } from "../config/cidr";
import type { Namer } from "../naming";
import { allowIngress, emptySecurityGroup } from "./security-group";

export const AZ_COUNT = 3;

/** Interface endpoints so tasks reach AWS APIs without the NAT (and ECS Exec works). */
const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "ssmmessages", "sts"] as const;

export interface NetworkProps {
  readonly namer: Namer;
  readonly region: string;
  readonly cidr: string;
  readonly natGatewayPerAz: boolean;
}

/**
 * Three tiers across three AZs: public (ALB, NAT), app (Fargate tasks, egress
 * via NAT) and data (RDS, Redis; no route to the internet at all).
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[] = [];
  readonly appSubnets: Subnet[] = [];
  readonly dataSubnets: Subnet[] = [];
  readonly appRouteTables: RouteTable[] = [];
  readonly dataRouteTable: RouteTable;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { namer } = props;
    // Exclude Local/Wavelength zones: Fargate, RDS and ElastiCache are not offered there.
    const azs = new DataAwsAvailabilityZones(this, "azs", {
      state: "available",
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });
    const az = (i: number): string => Fn.element(azs.names, i);

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: namer.name("vpc") },
    });
    // The default security group allows all intra-group traffic; empty it.
    new DefaultSecurityGroup(this, "default-sg", { vpcId: this.vpc.id, tags: { Name: namer.name("default-deny") } });

    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: { Name: namer.name("igw") } });
    const publicRt = new RouteTable(this, "public-rt", { vpcId: this.vpc.id, tags: { Name: namer.name("public") } });
    new Route(this, "public-default", { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });

    // Slots of /(prefix+4): 0-2 public, 4-6 app, 8-10 data; the gaps leave room to grow.
    const natGateways: NatGateway[] = [];
    for (let i = 0; i < AZ_COUNT; i++) {
      const pub = new Subnet(this, `public-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock: subnet(props.cidr, 4, i),
        availabilityZone: az(i),
        mapPublicIpOnLaunch: false,
        tags: { Name: namer.name(`public-${i}`), tier: "public" },
      });
      new RouteTableAssociation(this, `public-${i}-rta`, { subnetId: pub.id, routeTableId: publicRt.id });
      this.publicSubnets.push(pub);
      if (i === 0 || props.natGatewayPerAz) {
        const eip = new Eip(this, `nat-${i}-eip`, { domain: "vpc", tags: { Name: namer.name(`nat-${i}`) } });
        natGateways.push(
          new NatGateway(this, `nat-${i}`, {
            allocationId: eip.id,
            subnetId: pub.id,
            tags: { Name: namer.name(`nat-${i}`) },
            dependsOn: [igw],
          }),
        );
      }
    }

    for (let i = 0; i < AZ_COUNT; i++) {
      const app = new Subnet(this, `app-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock: subnet(props.cidr, 4, 4 + i),
        availabilityZone: az(i),
        tags: { Name: namer.name(`app-${i}`), tier: "app" },
      });
      const rt = new RouteTable(this, `app-${i}-rt`, { vpcId: this.vpc.id, tags: { Name: namer.name(`app-${i}`) } });
      const nat = natGateways[i] ?? natGateways[0];
      new Route(this, `app-${i}-default`, {
        routeTableId: rt.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nat?.id,
      });
      new RouteTableAssociation(this, `app-${i}-rta`, { subnetId: app.id, routeTableId: rt.id });
      this.appSubnets.push(app);
      this.appRouteTables.push(rt);
    }

    // The data tier has no default route: databases never talk to the internet.
    const dataRt = new RouteTable(this, "data-rt", { vpcId: this.vpc.id, tags: { Name: namer.name("data") } });
    this.dataRouteTable = dataRt;
    for (let i = 0; i < AZ_COUNT; i++) {
      const data = new Subnet(this, `data-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock: subnet(props.cidr, 4, 8 + i),
        availabilityZone: az(i),
        tags: { Name: namer.name(`data-${i}`), tier: "data" },
      });
      new RouteTableAssociation(this, `data-${i}-rta`, { subnetId: data.id, routeTableId: dataRt.id });
      this.dataSubnets.push(data);
    }

    // S3 gateway endpoint: ECR image layers are served from S3.
    new VpcEndpoint(this, "s3-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...this.appRouteTables, dataRt].map((rt) => rt.id),
      tags: { Name: namer.name("s3") },
    });
    const endpointSg = emptySecurityGroup(this, "endpoint-sg", namer.name("endpoints"), this.vpc.id, "Interface endpoints");
    allowIngress(this, "endpoint-https", endpointSg.id, { port: 443, peer: { cidr: props.cidr }, description: "HTTPS from the VPC" });
    for (const service of INTERFACE_ENDPOINTS) {
      new VpcEndpoint(this, `${service.replace(".", "-")}-endpoint`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.appSubnets.map((s) => s.id),
        securityGroupIds: [endpointSg.id],
        tags: { Name: namer.name(service) },
      });
    }
  }
}
