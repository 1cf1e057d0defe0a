import * as fs from "node:fs";
import * as path from "node:path";

/** Just enough of a Dockerfile parser to check what the image is built from. */

export interface Instruction {
  readonly keyword: string;
  /** Text after the keyword, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface CopyInstruction {
  readonly from?: string;
  readonly sources: string[];
  /** Absolute destination inside the image (WORKDIR applied). */
  readonly destination: string;
  readonly stage: string;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
  /** WORKDIR in effect at the end of the stage. */
  workdir: string;
  readonly copies: CopyInstruction[];
}

export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = "";
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comment lines (and parser directives) vanish, even inside a continuation.
    if (trimmed.startsWith("#")) return;
    if (!buffer) start = i + 1;
    if (trimmed.endsWith("\\")) {
      buffer += `${trimmed.slice(0, -1)} `;
      return;
    }
    buffer += trimmed;
    if (buffer.trim()) {
      const m = /^(\S+)\s*(.*)$/s.exec(buffer.trim());
      if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    }
    buffer = "";
  });
  return out;
}

/** JSON (exec) form when it parses as a string array, else whitespace-split shell form. */
export function words(args: string): string[] {
  if (args.startsWith("[")) {
    const parsed: unknown = JSON.parse(args);
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === "string")) return parsed as string[];
  }
  return args.split(/\s+/).filter(Boolean);
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    const current = stages[stages.length - 1];
    if (ins.keyword === "ARG" && !current) {
      const [name, value = ""] = ins.args.split("=", 2);
      globalArgs[name!] = value;
      continue;
    }
    if (ins.keyword === "FROM") {
      const parts = words(ins.args).filter((w) => !w.startsWith("--"));
      const base = parts[0]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string, b: string) => globalArgs[a ?? b] ?? "");
      const asIndex = parts.findIndex((p) => p.toUpperCase() === "AS");
      stages.push({ name: asIndex > 0 ? parts[asIndex + 1]! : String(stages.length), base, instructions: [], workdir: "/", copies: [] });
      continue;
    }
    if (!current) throw new Error(`line ${ins.line}: ${ins.keyword} before FROM`);
    current.instructions.push(ins);
    if (ins.keyword === "WORKDIR") current.workdir = path.posix.resolve(current.workdir, ins.args);
    if (ins.keyword === "COPY" || ins.keyword === "ADD") {
      const all = words(ins.args);
      const flags = all.filter((w) => w.startsWith("--"));
      const rest = all.filter((w) => !w.startsWith("--"));
      const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
      const dest = rest[rest.length - 1]!;
      current.copies.push({
        from,
        sources: rest.slice(0, -1),
        destination: path.posix.resolve(current.workdir, dest),
        stage: current.name,
      });
    }
  }
  return { args: globalArgs, stages };
}

/** Where a COPY puts one source: into the destination folder when it ends with "/" or copies several sources. */
export function copyTarget(copy: CopyInstruction, source: string, rawDestEndsWithSlash: boolean): string {
  if (rawDestEndsWithSlash || copy.sources.length > 1) return path.posix.join(copy.destination, path.posix.basename(source));
  return copy.destination;
}

// ---- .dockerignore -----------------------------------------------------------

interface IgnoreRule {
  readonly negate: boolean;
  readonly regex: RegExp;
}

function globToRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      // "**/" spans zero or more folders; a trailing "**" anything.
      if (pattern[i + 2] === "/") {
        re += "(?:.*/)?";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, "");
      return { negate, regex: globToRegex(pattern) };
    });
}

/**
 * Docker semantics: a pattern that matches a path or any of its parent
 * folders applies to it; the last applicable pattern wins.
 */
export function isIncluded(rules: readonly IgnoreRule[], relPath: string): boolean {
  const parts = relPath.split("/");
  const candidates = parts.map((_p, i) => parts.slice(0, i + 1).join("/"));
  let included = true;
  for (const rule of rules) {
    if (candidates.some((c) => rule.regex.test(c))) included = rule.negate;
  }
  return included;
}

/** Every file below `abs` (or `abs` itself), relative to `root`. */
export function filesUnder(root: string, abs: string): string[] {
  const stat = fs.statSync(abs);
  if (!stat.isDirectory()) return [path.relative(root, abs).split(path.sep).join("/")];
  return fs.readdirSync(abs).flatMap((entry) => filesUnder(root, path.join(abs, entry)));
}
