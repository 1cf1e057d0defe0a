import { Annotations, type IAspect, TerraformProvider, TerraformResource, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import type { MandateConfig } from "./config/types";

/**
 * Keys every taggable resource must carry (AWS tags and GCP labels alike).
 * Underscores, not hyphens: CDKTF snake-cases the keys of the Google
 * provider's default_labels map, so "cost-center" would silently become "cost_center".
 */
export const REQUIRED_TAG_KEYS = ["app", "environment", "owner", "cost_center", "managed_by"] as const;

export function requiredTags(config: MandateConfig): Record<(typeof REQUIRED_TAG_KEYS)[number], string> {
  return {
    app: config.appName,
    environment: config.environment,
    owner: config.tags.owner,
    cost_center: config.tags.costCenter,
    managed_by: "cdktf",
  };
}

type TagMap = Record<string, string>;

/** How a provider's defaults reach resources: AWS `default_tags`, Google `default_labels`. */
function providerDefaults(provider: TerraformProvider | undefined): TagMap {
  if (!provider) return {};
  const p = provider as unknown as { defaultTags?: unknown; defaultLabels?: unknown };
  if (Array.isArray(p.defaultTags)) {
    const first = p.defaultTags[0] as { tags?: TagMap } | undefined;
    return first?.tags ?? {};
  }
  if (p.defaultLabels && typeof p.defaultLabels === "object") return p.defaultLabels as TagMap;
  return {};
}

/**
 * Returns the attribute that carries tags on this resource ("tags" or
 * "labels"), or undefined when the resource type has none. Prebuilt
 * provider classes expose an `<attr>Input` getter exactly for settable attributes.
 */
export function taggableAttribute(resource: TerraformResource): "tags" | "labels" | undefined {
  if ("tagsInput" in resource) return "tags";
  if ("labelsInput" in resource) return "labels";
  return undefined;
}

/** The provider a resource will use: its explicit one, else the stack's default of that provider type. */
function resolveProvider(resource: TerraformResource): TerraformProvider | undefined {
  if (resource.provider) return resource.provider;
  const stack = TerraformStack.of(resource);
  const type = resource.terraformGeneratorMetadata?.providerName;
  return stack.node
    .findAll()
    .find(
      (c): c is TerraformProvider =>
        c instanceof TerraformProvider && c.terraformResourceType === type && c.alias === undefined,
    );
}

export function missingTags(resource: TerraformResource, keys: readonly string[]): string[] {
  const attribute = taggableAttribute(resource);
  if (!attribute) return [];
  const own = (resource as unknown as Record<string, TagMap | undefined>)[`${attribute}Input`] ?? {};
  const effective = { ...providerDefaults(resolveProvider(resource)), ...own };
  return keys.filter((k) => !effective[k]);
}

/**
 * Fails synth when any taggable resource would be created without the
 * required tags, counting what provider default tags/labels add.
 */
export class RequiredTagsAspect implements IAspect {
  constructor(private readonly keys: readonly string[] = REQUIRED_TAG_KEYS) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const missing = missingTags(node, this.keys);
    if (missing.length > 0) {
      const message = `${node.terraformResourceType} "${node.node.path}" lacks required tags: ${missing.join(", ")}`;
      Annotations.of(node).addError(message);
      throw new Error(message);
    }
  }
}
