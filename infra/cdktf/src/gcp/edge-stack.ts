import { ComputeBackendService } from "@cdktf/provider-google/lib/compute-backend-service";
import { ComputeGlobalAddress } from "@cdktf/provider-google/lib/compute-global-address";
import { ComputeGlobalForwardingRule } from "@cdktf/provider-google/lib/compute-global-forwarding-rule";
import { ComputeManagedSslCertificate } from "@cdktf/provider-google/lib/compute-managed-ssl-certificate";
import { ComputeRegionNetworkEndpointGroup } from "@cdktf/provider-google/lib/compute-region-network-endpoint-group";
import { ComputeSslPolicy } from "@cdktf/provider-google/lib/compute-ssl-policy";
import { ComputeTargetHttpProxy } from "@cdktf/provider-google/lib/compute-target-http-proxy";
import { ComputeTargetHttpsProxy } from "@cdktf/provider-google/lib/compute-target-https-proxy";
import { ComputeUrlMap } from "@cdktf/provider-google/lib/compute-url-map";
import { DnsRecordSet } from "@cdktf/provider-google/lib/dns-record-set";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { GcpConfig, MandateConfig } from "../config/types";
import { regionCode } from "../naming";
import { gcpBackend, gcpGlobalNames, gcpPrimaryRegion, gcpProvider } from "./base-stack";
import { CloudArmor } from "./cloud-armor";
import type { GcpRegionStack } from "./region-stack";

export interface GcpEdgeStackProps {
  readonly config: MandateConfig;
  readonly gcp: GcpConfig;
  readonly regions: readonly GcpRegionStack[];
}

/**
 * One global external Application Load Balancer in front of every region:
 * a serverless NEG per region behind one backend service (Google routes each
 * client to the nearest healthy region), a managed certificate, Cloud Armor,
 * and a port-80 forwarding rule that only redirects to HTTPS.
 */
export class GcpEdgeStack extends TerraformStack {
  readonly negs: ComputeRegionNetworkEndpointGroup[];
  readonly backend: ComputeBackendService;
  readonly address: ComputeGlobalAddress;

  constructor(scope: Construct, id: string, props: GcpEdgeStackProps) {
    super(scope, id);
    const { config, gcp } = props;
    const { prefix } = gcpGlobalNames(config, gcp);
    gcpProvider(this, config, gcp, gcpPrimaryRegion(gcp));
    gcpBackend(this, gcp, "edge");

    this.address = new ComputeGlobalAddress(this, "ip", { name: `${prefix}-lb`, addressType: "EXTERNAL", ipVersion: "IPV4" });

    // Service names come from the region stacks' configuration, not their state.
    this.negs = props.regions.map(
      (r) =>
        new ComputeRegionNetworkEndpointGroup(this, `neg-${r.region}`, {
          name: `${prefix}-${regionCode(r.region)}-neg`,
          region: r.region,
          networkEndpointType: "SERVERLESS",
          cloudRun: { service: r.serviceName },
        }),
    );

    const armor = config.features.cloudArmor
      ? new CloudArmor(this, "cloud-armor", { name: `${prefix}-edge`, rateLimitPerMinute: gcp.rateLimitPerMinute })
      : undefined;

    this.backend = new ComputeBackendService(this, "backend-service", {
      name: `${prefix}-backend`,
      loadBalancingScheme: "EXTERNAL_MANAGED",
      protocol: "HTTPS",
      backend: this.negs.map((neg) => ({ group: neg.id })),
      securityPolicy: armor?.policy.id,
      logConfig: { enable: true, sampleRate: 1 },
    });

    const certificate = new ComputeManagedSslCertificate(this, "certificate", {
      name: `${prefix}-cert`,
      managed: { domains: [gcp.hostname] },
      lifecycle: { createBeforeDestroy: true },
    });
    const tls = new ComputeSslPolicy(this, "tls-policy", { name: `${prefix}-tls`, profile: "MODERN", minTlsVersion: "TLS_1_2" });
    const urlMap = new ComputeUrlMap(this, "url-map", { name: `${prefix}-https`, defaultService: this.backend.id });
    const httpsProxy = new ComputeTargetHttpsProxy(this, "https-proxy", {
      name: `${prefix}-https`,
      urlMap: urlMap.id,
      sslCertificates: [certificate.id],
      sslPolicy: tls.id,
    });
    new ComputeGlobalForwardingRule(this, "https-rule", {
      name: `${prefix}-https`,
      target: httpsProxy.id,
      ipAddress: this.address.address,
      portRange: "443",
      ipProtocol: "TCP",
      loadBalancingScheme: "EXTERNAL_MANAGED",
    });

    const redirectMap = new ComputeUrlMap(this, "http-redirect", {
      name: `${prefix}-http-redirect`,
      defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT", stripQuery: false },
    });
    const httpProxy = new ComputeTargetHttpProxy(this, "http-proxy", { name: `${prefix}-http`, urlMap: redirectMap.id });
    new ComputeGlobalForwardingRule(this, "http-rule", {
      name: `${prefix}-http`,
      target: httpProxy.id,
      ipAddress: this.address.address,
      portRange: "80",
      ipProtocol: "TCP",
      loadBalancingScheme: "EXTERNAL_MANAGED",
    });

    if (gcp.dnsManagedZone) {
      new DnsRecordSet(this, "dns", { managedZone: gcp.dnsManagedZone, name: `${gcp.hostname}.`, type: "A", ttl: 300, rrdatas: [this.address.address] });
    }

    new TerraformOutput(this, "service_url", { value: `https://${gcp.hostname}` });
    new TerraformOutput(this, "load_balancer_ip", { value: this.address.address, description: "Point the hostname's A record here" });
  }
}
