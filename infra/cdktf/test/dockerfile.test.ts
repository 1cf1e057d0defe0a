import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { LIVENESS_PROBE } from "../src/aws/service";
import { type Stage, filesUnder, isIncluded, parseDockerfile, parseDockerignore, words } from "./dockerfile";

// The image is built with the repository root as context.
const ROOT = path.resolve(__dirname, "../../..");
const DOCKERFILE = path.join(ROOT, "reference-server/Dockerfile");
const text = fs.readFileSync(DOCKERFILE, "utf8");
const { stages } = parseDockerfile(text);
const runtime = stages[stages.length - 1]!;
const serverPkg = JSON.parse(fs.readFileSync(path.join(ROOT, "reference-server/package.json"), "utf8")) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};

const contextCopies = stages.flatMap((s) => s.copies.filter((c) => !c.from).flatMap((c) => c.sources.map((source) => ({ stage: s.name, source }))));
const last = (stage: Stage, keyword: string): string | undefined =>
  [...stage.instructions].reverse().find((i) => i.keyword === keyword)?.args;

/** tsconfig files are JSONC: drop line and block comments and trailing commas before parsing. */
function readJsonc(file: string): Record<string, unknown> {
  const raw = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|(^|[^:"'])\/\/.*$/gm, "$1").replace(/,(\s*[}\]])/g, "$1");
  return JSON.parse(raw) as Record<string, unknown>;
}

describe("reference-server/Dockerfile", () => {
  it("copies only paths that exist in the repository", () => {
    expect(contextCopies.length).toBeGreaterThanOrEqual(6);
    const missing = contextCopies.filter(({ source }) => !fs.existsSync(path.join(ROOT, source)));
    expect(missing).toEqual([]);
  });

  it("copies only paths that .dockerignore lets into the build context", () => {
    const rules = parseDockerignore(fs.readFileSync(path.join(ROOT, ".dockerignore"), "utf8"));
    // The allowlist must really exclude the rest of the monorepo.
    for (const excluded of ["infra/cdktf/node_modules/cdktf/package.json", "reference-server/dist/main.js", "README.md", "reference-server/node_modules/x/index.js"]) {
      expect({ excluded, included: isIncluded(rules, excluded) }).toEqual({ excluded, included: false });
    }
    for (const { source } of contextCopies) {
      const abs = path.join(ROOT, source);
      if (!fs.existsSync(abs)) continue; // reported by the test above
      const files = filesUnder(ROOT, abs);
      const shipped = files.filter((f) => isIncluded(rules, f));
      expect({ source, shipped: shipped.length > 0 }).toEqual({ source, shipped: true });
      if (!fs.statSync(abs).isDirectory()) expect({ source, included: isIncluded(rules, source) }).toEqual({ source, included: true });
    }
    // Every starter template ships, its .env.example (names, no secret) despite the .env.* rule.
    const templates = filesUnder(ROOT, path.join(ROOT, "reference-server/scaffold"));
    expect(templates.filter((f) => f.endsWith("/.env.example")).length).toBe(4);
    expect(templates.filter((f) => !isIncluded(rules, f))).toEqual([]);
  });

  it("starts the server exactly like `npm start` in the workspace", () => {
    const cmd = last(runtime, "CMD");
    expect(cmd).toBeDefined();
    expect(words(cmd!).join(" ")).toBe(serverPkg.scripts.start);
    // `npm start` runs in reference-server/, so relative paths in it must resolve the same way.
    expect(runtime.workdir).toBe("/app/reference-server");
  });

  it("builds with the workspace build script and ships its output where CMD expects it", () => {
    const build = stages.find((s) => s.instructions.some((i) => i.keyword === "RUN" && /npm run build\b.*(-w|--workspace)[ =]reference-server/.test(i.args)));
    expect(build).toBeDefined();
    expect(serverPkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    // tsconfig.build.json (or what it extends) must emit to dist/, where CMD looks.
    let config = readJsonc(path.join(ROOT, "reference-server/tsconfig.build.json"));
    let dir = path.join(ROOT, "reference-server");
    let outDir = (config.compilerOptions as Record<string, string> | undefined)?.outDir;
    while (!outDir && typeof config.extends === "string") {
      const next = path.resolve(dir, config.extends);
      config = readJsonc(next.endsWith(".json") ? next : `${next}.json`);
      dir = path.dirname(next);
      outDir = (config.compilerOptions as Record<string, string> | undefined)?.outDir;
    }
    expect(outDir && path.resolve(dir, outDir)).toBe(path.join(ROOT, "reference-server/dist"));
    const distCopy = runtime.copies.find((c) => c.from === build!.name);
    expect(distCopy?.sources).toEqual([`${build!.workdir}/reference-server/dist`]);
    const entry = words(last(runtime, "CMD")!).slice(-1)[0]!;
    expect(path.posix.resolve(runtime.workdir, entry)).toBe(`${distCopy!.destination}/main.js`);
  });

  it("ships the API reference's Redoc bundle in dist/, copied there by the build from a devDependency the build stage installs", () => {
    const build = stages.find((s) => s.instructions.some((i) => i.keyword === "RUN" && /npm run build\b/.test(i.args)));
    expect(serverPkg.scripts.build).toMatch(/&& node dist\/http\/api-reference\.js$/);
    expect(serverPkg.devDependencies.redoc).toMatch(/^\d+\.\d+\.\d+$/);
    const install = build?.instructions.find((i) => i.keyword === "RUN" && /npm ci\b/.test(i.args));
    expect(install?.args).toBeDefined();
    expect(install?.args).not.toMatch(/--omit[= ]dev|--production/);
    expect(runtime.copies.find((c) => c.from === build?.name)?.sources).toEqual([`${build?.workdir}/reference-server/dist`]);
  });

  it("builds the web console in the image and ships console/dist where the server serves it from", () => {
    const build = stages.find((s) => s.instructions.some((i) => i.keyword === "RUN" && /npm run build\b.*(-w|--workspace)[ =]console\b/.test(i.args)));
    expect(build).toBeDefined();
    // The console's dependencies come from the lockfile, with its build tools (devDependencies).
    const install = build!.instructions.find((i) => i.keyword === "RUN" && /npm ci\b/.test(i.args));
    expect(install?.args).toMatch(/(-w|--workspace)[ =]console\b/);
    expect(install?.args).not.toMatch(/--omit[= ]dev|--production/);
    // Vite writes console/dist (console/vite.config.ts); the server reads it at
    // ../../../console/dist from its compiled dist/http/ folder (console-assets.ts).
    expect(fs.readFileSync(path.join(ROOT, "console/vite.config.ts"), "utf8")).toMatch(/outDir: 'dist'/);
    const assets = fs.readFileSync(path.join(ROOT, "reference-server/src/http/console-assets.ts"), "utf8");
    expect(assets).toContain("path.resolve(__dirname, '../../../console/dist')");
    const consoleCopy = runtime.copies.find((c) => c.from === build!.name && c.sources.some((source) => source.endsWith("/console/dist")));
    expect(consoleCopy?.sources).toEqual([`${build!.workdir}/console/dist`]);
    expect(consoleCopy?.destination).toBe(path.posix.resolve(runtime.workdir, "dist/http", "../../../console/dist"));
    // Never the developer's local build: the image builds its own.
    const rules = parseDockerignore(fs.readFileSync(path.join(ROOT, ".dockerignore"), "utf8"));
    expect(isIncluded(rules, "console/dist/index.html")).toBe(false);
    expect(isIncluded(rules, "console/src/main.tsx")).toBe(true);
    expect(isIncluded(rules, "console/node_modules/vite/package.json")).toBe(false);
  });

  it("puts migrations, the starter templates and the bundled spec where the server reads them", () => {
    const dest = (source: string): string | undefined => runtime.copies.find((c) => !c.from && c.sources.includes(source))?.destination;
    expect(dest("reference-server/migrations")).toBe(path.posix.join(runtime.workdir, "migrations"));
    expect(dest("reference-server/scaffold")).toBe(path.posix.join(runtime.workdir, "scaffold"));
    // The server reads ../../spec/dist/openapi.json relative to its compiled dist/ folder.
    expect(dest("spec/dist/openapi.json")).toBe(path.posix.resolve(runtime.workdir, "dist", "../../spec/dist/openapi.json"));
  });

  it("installs production dependencies only in the runtime image, from the lockfile", () => {
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.keyword === "RUN").map((i) => ({ stage: s.name, args: i.args })));
    const prodInstall = runs.find((r) => /npm ci\b.*--omit=dev/.test(r.args));
    expect(prodInstall).toBeDefined();
    expect(runs.every((r) => !/npm (install|i)\b/.test(r.args))).toBe(true);
    const nodeModulesCopy = runtime.copies.find((c) => c.sources.includes("/app/node_modules"));
    expect(nodeModulesCopy?.from).toBe(prodInstall!.stage);
    expect(runtime.instructions.filter((i) => i.keyword === "RUN")).toEqual([]);
  });

  it("runs as a non-root user on a slim Node 20 base", () => {
    const user = last(runtime, "USER");
    expect(user).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user);
    expect(runtime.base).toMatch(/^node:20[\w.-]*-slim/);
    const userIndex = runtime.instructions.findIndex((i) => i.keyword === "USER");
    const cmdIndex = runtime.instructions.findIndex((i) => i.keyword === "CMD");
    expect(userIndex).toBeLessThan(cmdIndex);
  });
});

/** Serves /health and /health/ready with the given statuses on a loopback port. */
async function withServer<T>(statuses: Record<string, number>, fn: (port: number) => T): Promise<T> {
  const server = http.createServer((req, res) => {
    res.statusCode = statuses[req.url ?? ""] ?? 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await fn((server.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Runs a probe the way the container runtime does and returns its exit code (async: the server shares this process). */
function runProbe(argv: string[], port: number): Promise<number | null> {
  const [exe, ...args] = argv;
  expect(exe).toBe("node");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, PORT: String(port) }, stdio: "ignore", timeout: 10000 });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}

describe("health probes", () => {
  const healthcheck = runtime.instructions.find((i) => i.keyword === "HEALTHCHECK")!;
  const probeArgv = words(healthcheck.args.slice(healthcheck.args.indexOf("CMD") + 3).trim());

  it("HEALTHCHECK probes /health/ready with node, not curl", () => {
    expect(probeArgv[0]).toBe("node");
    expect(probeArgv.join(" ")).toContain("/health/ready");
    expect(healthcheck.args).not.toMatch(/curl|wget/);
  });

  it("the image HEALTHCHECK passes on 200 and fails on 503 or no server", async () => {
    await withServer({ "/health/ready": 200 }, async (port) => expect(await runProbe(probeArgv, port)).toBe(0));
    await withServer({ "/health/ready": 503 }, async (port) => expect(await runProbe(probeArgv, port)).toBe(1));
    const closedPort = await withServer({}, (port) => port);
    expect(await runProbe(probeArgv, closedPort)).toBe(1);
  });

  it("the ECS liveness probe checks /health, so a lost database does not restart tasks", async () => {
    const argv = ["node", "-e", LIVENESS_PROBE];
    await withServer({ "/health": 200, "/health/ready": 503 }, async (port) => expect(await runProbe(argv, port)).toBe(0));
    await withServer({ "/health": 500 }, async (port) => expect(await runProbe(argv, port)).toBe(1));
  });
});
