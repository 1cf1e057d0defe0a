import * as fs from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { type MandateStacks, buildStacks } from "../src/app";
import type { MandateConfig } from "../src/config/types";

/** The parts of a synthesized cdk.tf.json the tests read. */
export interface TfJson {
  terraform: { backend?: Record<string, Record<string, unknown>>; required_providers?: Record<string, unknown> };
  provider?: Record<string, Record<string, unknown>[]>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
}

export interface SynthesizedStack {
  /** Raw JSON text, what the Testing matchers take. */
  readonly text: string;
  readonly tf: TfJson;
}

export interface Synthesized {
  readonly stacks: MandateStacks;
  readonly byName: Map<string, SynthesizedStack>;
  readonly outdir: string;
}

/**
 * Full app synth (not Testing.synth of one stack): cross-stack references
 * between regions are only wired up when the whole app synthesizes.
 */
export function synthApp(config: MandateConfig): Synthesized {
  const app = Testing.app();
  const stacks = buildStacks(app, config);
  app.synth();
  const byName = new Map<string, SynthesizedStack>();
  for (const stack of [...stacks.aws, ...stacks.gcp]) {
    const name = stack.node.id;
    const text = fs.readFileSync(path.join(app.outdir, "stacks", name, "cdk.tf.json"), "utf8");
    byName.set(name, { text, tf: JSON.parse(text) as TfJson });
  }
  return { stacks, byName, outdir: app.outdir };
}

export function stackJson(s: Synthesized, name: string): SynthesizedStack {
  const found = s.byName.get(name);
  if (!found) throw new Error(`stack ${name} was not synthesized (have: ${[...s.byName.keys()].join(", ")})`);
  return found;
}

/** All resources of one type in a stack, keyed by logical id. */
export function resources(stack: SynthesizedStack, type: string): Record<string, Record<string, unknown>> {
  return stack.tf.resource?.[type] ?? {};
}

export function only(stack: SynthesizedStack, type: string): Record<string, unknown> {
  const all = Object.values(resources(stack, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0]!;
}

/** Logical id of the only resource of `type` (for building "${type.id.attr}" references). */
export function onlyId(stack: SynthesizedStack, type: string): string {
  const ids = Object.keys(resources(stack, type));
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}`);
  return ids[0]!;
}

/** Terraform reference string to an attribute of a resource. */
export function ref(type: string, id: string, attribute: string): string {
  return `\${${type}.${id}.${attribute}}`;
}

/**
 * Turns a synthesized "${jsonencode(<HCL value>)}" back into data, so tests
 * read exactly what Terraform will encode. Bare references become "${ref}"
 * strings, as they would appear in plain JSON synthesis.
 */
export function decodeJsonencode(expression: string): unknown {
  const m = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expression);
  if (!m) throw new Error(`not a jsonencode expression: ${expression.slice(0, 80)}`);
  const body = m[1]!;
  let out = "";
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === '"') {
      let j = i + 1;
      while (body[j] !== '"') j += body[j] === "\\" ? 2 : 1;
      // HCL escapes a literal "${" as "$${".
      out += body.slice(i, j + 1).replace(/\$\$\{/g, "${");
      i = j + 1;
    } else if (c === "=") {
      out += ":";
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][\w.\-[\]]*/.exec(body.slice(i))![0];
      out += ["true", "false", "null"].includes(word) ? word : JSON.stringify(`\${${word}}`);
      i += word.length;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out) as unknown;
}
