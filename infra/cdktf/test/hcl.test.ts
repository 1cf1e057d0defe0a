import { parse } from "@cdktf/hcl2json";
import shippedConfig from "../config/mandate.config";
import { synthApp } from "./synth";

/** Counts resources per type in a Terraform document (HCL-as-JSON or CDKTF JSON). */
function inventory(doc: Record<string, unknown>): Record<string, number> {
  const resources = (doc.resource ?? {}) as Record<string, object>;
  return Object.fromEntries(Object.entries(resources).map(([type, byName]) => [type, Object.keys(byName).length]));
}

describe("plain HCL export (the way off CDKTF)", () => {
  // The same rendering `cdktf synth --hcl` writes, taken after a full app synth.
  const synth = synthApp(shippedConfig);
  const stacks = [...synth.stacks.aws, ...synth.stacks.gcp];

  it.each(stacks.map((s) => [s.node.id, s] as const))("%s parses as HCL and declares what the JSON synth declares", async (name, stack) => {
    const { hcl } = stack.toHclTerraform() as { hcl: string };
    // Untyped blocks render as invalid HCL; CDKTF marks them with this comment.
    expect(hcl).not.toContain("skip generating a detailed type");
    const parsed = await parse("cdk.tf", hcl);
    const json = synth.byName.get(name)!.tf as unknown as Record<string, unknown>;
    expect(Object.keys(inventory(parsed)).length).toBeGreaterThan(3);
    expect(inventory(parsed)).toEqual(inventory(json));
    expect(Object.keys(parsed.output ?? {}).sort()).toEqual(Object.keys(json.output ?? {}).sort());
    expect(Object.keys(parsed.terraform?.[0]?.backend ?? {})).toEqual([name.includes("-aws-") ? "s3" : "gcs"]);
  });
});
