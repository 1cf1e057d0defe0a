import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { VpcPeeringConnectionAccepterA } from "@cdktf/provider-aws/lib/vpc-peering-connection-accepter";
import { Construct } from "constructs";
import type { Namer } from "../naming";
import { DB_PORT } from "./database";
import { allowIngress } from "./security-group";

export interface PeerSide {
  readonly vpcId: string;
  readonly cidr: string;
  readonly routeTableIds: string[];
}

export interface PrimaryPeeringProps {
  readonly namer: Namer;
  readonly primaryRegion: string;
  /** Provider for the primary region; the accepter, return routes and DB rule live there. */
  readonly primaryProvider: AwsProvider;
  readonly local: PeerSide;
  readonly primary: PeerSide;
  readonly primaryDatabaseSecurityGroupId: string;
}

/**
 * Secondary regions write to the primary database, so their VPC is peered
 * with the primary's. Everything is created from the secondary stack (with a
 * provider aliased to the primary region) so stacks depend one way only.
 */
export class PrimaryPeering extends Construct {
  readonly connection: VpcPeeringConnection;

  constructor(scope: Construct, id: string, props: PrimaryPeeringProps) {
    super(scope, id);
    const name = props.namer.name(`to-${props.primaryRegion}`);
    this.connection = new VpcPeeringConnection(this, "connection", {
      vpcId: props.local.vpcId,
      peerVpcId: props.primary.vpcId,
      peerRegion: props.primaryRegion,
      // Cross-region peering cannot be auto-accepted by the requester.
      autoAccept: false,
      tags: { Name: name },
    });
    new VpcPeeringConnectionAccepterA(this, "accepter", {
      provider: props.primaryProvider,
      vpcPeeringConnectionId: this.connection.id,
      autoAccept: true,
      tags: { Name: name },
    });
    props.local.routeTableIds.forEach((routeTableId, i) => {
      new Route(this, `to-primary-${i}`, {
        routeTableId,
        destinationCidrBlock: props.primary.cidr,
        vpcPeeringConnectionId: this.connection.id,
      });
    });
    props.primary.routeTableIds.forEach((routeTableId, i) => {
      new Route(this, `from-primary-${i}`, {
        provider: props.primaryProvider,
        routeTableId,
        destinationCidrBlock: props.local.cidr,
        vpcPeeringConnectionId: this.connection.id,
      });
    });
    allowIngress(this, "primary-db-from-here", props.primaryDatabaseSecurityGroupId, {
      port: DB_PORT,
      peer: { cidr: props.local.cidr },
      description: `PostgreSQL from ${props.namer.region}`,
      provider: props.primaryProvider,
    });
  }
}
