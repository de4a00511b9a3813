// Static checks of the deployment files: Dockerfile, .dockerignore,
// docker-compose.yml and k8s/*.yaml. Nothing here needs Docker or a cluster:
// the files are parsed and held to the CLI's contract (exit codes, SIGTERM
// budget, environment variables). Each check is a function that throws on a
// violation; the "checks can fail" block feeds them broken variants to prove it.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ENV_VARIABLES, loadConfig, SECRET_ENV_VARIABLES } from "../src/config.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

// ---------------------------------------------------------------------------
// The contract

/** Values that belong in the Secret and never in the ConfigMap (src/config.ts). */
const SECRET_VARIABLES: readonly string[] = SECRET_ENV_VARIABLES;
/** Every variable the service reads (src/config.ts). */
const APP_VARIABLES: readonly string[] = ENV_VARIABLES;
/** Read by seed/seed.ts, not by the service. */
const SEED_VARIABLES = ["SEED_FILMS", "SEED", "SEED_RESET"];
/** Node's own: allowed in Kubernetes manifests only to cap the heap below the memory limit. */
const NODE_RUNTIME_VARIABLES = ["NODE_OPTIONS"];
const DEFAULT_SHUTDOWN_TIMEOUT_S = 10;
/** METRICS_PORT's default (src/config.ts). */
const DEFAULT_METRICS_PORT = loadConfig({}).metricsPort;
/** Seconds between the shutdown budget and SIGKILL, for the process to exit and its logs to flush. */
const MIN_GRACE_MARGIN_S = 3;
/** Exit codes a retry cannot fix: configuration error, documents rejected. */
const PERMANENT_EXIT_CODES = [2, 4];
/** Exit codes worth a retry: internal error, dependency unavailable, SIGTERM. */
const RETRYABLE_EXIT_CODES = [1, 3, 143];

// ---------------------------------------------------------------------------
// Parsing helpers

type Obj = Record<string, any>;

function parseYaml(text: string, name: string): Obj[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Obj[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as Obj);
  }
  return out;
}

function loadYaml(file: string): Obj[] {
  return parseYaml(read(file), file);
}

function one(file: string, kind: string): Obj {
  const docs = loadYaml(file).filter((d) => d.kind === kind);
  expect(docs, `${file}: exactly one ${kind}`).toHaveLength(1);
  return docs[0]!;
}

/** Kubernetes quantity to a number (bytes for memory, cores for CPU). */
function quantity(value: string | number): number {
  const text = String(value).trim();
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(text);
  if (!match) throw new Error(`not a quantity: ${text}`);
  const units: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  const factor = units[match[2]!];
  if (factor === undefined) throw new Error(`unknown unit in ${text}`);
  return Number(match[1]) * factor;
}

/** Compose duration ("15s", "1m30s") to seconds. */
function durationS(value: string | number): number {
  if (typeof value === "number") return value;
  const parts = [...value.matchAll(/([0-9.]+)(h|m|s|ms|us)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value.trim()) throw new Error(`not a duration: ${value}`);
  const scale: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * scale[p[2]!]!, 0);
}

/** Compose `environment`, as a map or as a list of KEY=VALUE. */
function composeEnv(environment: unknown): Record<string, string> {
  if (!environment) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((e: string) => [e.split("=")[0]!, e.slice(e.indexOf("=") + 1)]));
  }
  return environment as Record<string, string>;
}

function podSpecOf(workload: Obj): Obj {
  if (workload.kind === "CronJob") return workload.spec.jobTemplate.spec.template.spec;
  if (workload.kind === "Job" || workload.kind === "Deployment") return workload.spec.template.spec;
  throw new Error(`not a Job or CronJob: ${workload.kind}`);
}

function jobSpecOf(workload: Obj): Obj {
  return workload.kind === "CronJob" ? workload.spec.jobTemplate.spec : workload.spec;
}

// Dockerfile ----------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && pending === "")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (full === "") continue;
    const [keyword, ...rest] = full.split(/\s+/);
    instructions.push({ keyword: keyword!.toUpperCase(), args: rest.join(" ") });
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      const from = words[0]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs[a ?? b] ?? "");
      const asIndex = words.findIndex((w) => w.toUpperCase() === "AS");
      stages.push({ name: asIndex >= 0 ? words[asIndex + 1]! : String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === "ARG") {
        const [name, value] = ins.args.split("=");
        globalArgs[name!] = value ?? "";
      }
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The stage and the stages it is built FROM, nearest first. */
function lineage(stages: Stage[], stage: Stage): Stage[] {
  const chain = [stage];
  for (let s = stage; ; ) {
    const parent = stages.find((p) => p.name === s.from);
    if (!parent) return chain;
    chain.push(parent);
    s = parent;
  }
}

/** The last value of an instruction in a stage or the stages it inherits from. */
function effective(stages: Stage[], stage: Stage, keyword: string): string | undefined {
  for (const s of lineage(stages, stage)) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found.args;
  }
  return undefined;
}

function execForm(args: string | undefined, what: string): string[] {
  expect(args, `${what} is set`).toBeDefined();
  expect(args!.trim(), `${what} uses the exec (JSON) form, so that the process gets SIGTERM`).toMatch(/^\[.*\]$/);
  const parsed = JSON.parse(args!);
  expect(Array.isArray(parsed), `${what} uses the exec (JSON) form, so that the process gets SIGTERM`).toBe(true);
  return parsed as string[];
}

/** Minimal .dockerignore matcher: literal paths, `dir/`, `*`, `**` and `!` exceptions. */
function dockerIgnored(patterns: string[], file: string): boolean {
  let ignored = false;
  for (const rawPattern of patterns) {
    const negate = rawPattern.startsWith("!");
    const pattern = (negate ? rawPattern.slice(1) : rawPattern).replace(/^\/+|\/+$/g, "");
    const regex = new RegExp(
      "^" +
        pattern
          .split("**")
          .map((part) =>
            part
              .replace(/[.+^${}()|[\]\\]/g, "\\$&")
              .replace(/\*/g, "[^/]*")
              .replace(/\?/g, "[^/]"),
          )
          .join(".*") +
        "(/.*)?$",
    );
    if (regex.test(file)) ignored = !negate;
  }
  return ignored;
}

function dockerignorePatterns(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

// ---------------------------------------------------------------------------
// Checks (each throws on a violation)

function shutdownBudgetS(configMap: Obj): number {
  const raw = configMap.data?.ETL_SHUTDOWN_TIMEOUT_S;
  if (raw === undefined) return DEFAULT_SHUTDOWN_TIMEOUT_S;
  expect(String(raw), "ETL_SHUTDOWN_TIMEOUT_S is an integer").toMatch(/^[0-9]+$/);
  return Number(raw);
}

function checkConfigMap(configMap: Obj): void {
  expect(configMap.kind).toBe("ConfigMap");
  const data: Obj = configMap.data ?? {};
  for (const [key, value] of Object.entries(data)) {
    expect(APP_VARIABLES, `ConfigMap key ${key} is a variable the service reads`).toContain(key);
    expect(SECRET_VARIABLES, `ConfigMap holds no secret (${key})`).not.toContain(key);
    // Kubernetes rejects a ConfigMap whose data values are not strings.
    expect(typeof value, `ConfigMap value of ${key} is a string`).toBe("string");
    expect(String(value), `ConfigMap value of ${key} holds no credentials`).not.toMatch(/:\/\/[^/\s]*:[^/\s]*@/);
  }
}

function checkSecret(secret: Obj): void {
  expect(secret.kind).toBe("Secret");
  const keys = Object.keys({ ...(secret.data ?? {}), ...(secret.stringData ?? {}) });
  expect(keys, "the Secret holds DATABASE_URL").toContain("DATABASE_URL");
  for (const key of keys) expect(SECRET_VARIABLES, `Secret key ${key} is one of the secret variables`).toContain(key);
}

interface Refs {
  configMapName: string;
  secretName: string;
  budgetS: number;
}

/** Pod-level rules shared by every Job: restart, grace period, security, resources, /tmp. */
function checkPod(workload: Obj, refs: Refs): void {
  const name = `${workload.kind}/${workload.metadata?.name}`;
  const pod = podSpecOf(workload);
  const job = jobSpecOf(workload);
  expect(pod.restartPolicy, `${name}: restartPolicy`).toBe("Never");
  expect(pod.terminationGracePeriodSeconds, `${name}: terminationGracePeriodSeconds ≥ budget + margin`).toBeGreaterThanOrEqual(
    refs.budgetS + MIN_GRACE_MARGIN_S,
  );
  expect(job.activeDeadlineSeconds, `${name}: activeDeadlineSeconds`).toBeTypeOf("number");
  expect(job.activeDeadlineSeconds, `${name}: activeDeadlineSeconds > shutdown budget`).toBeGreaterThan(pod.terminationGracePeriodSeconds);
  expect(Number.isInteger(job.backoffLimit) && job.backoffLimit >= 0, `${name}: backoffLimit set`).toBe(true);

  expect(pod.containers, `${name}: one container`).toHaveLength(1);
  const container = pod.containers[0];
  const podSecurity = pod.securityContext ?? {};
  const security = { ...podSecurity, ...(container.securityContext ?? {}) };
  expect(security.runAsNonRoot, `${name}: runAsNonRoot`).toBe(true);
  if (security.runAsUser !== undefined) expect(security.runAsUser, `${name}: runAsUser`).not.toBe(0);
  expect(security.allowPrivilegeEscalation, `${name}: allowPrivilegeEscalation`).toBe(false);
  expect(security.readOnlyRootFilesystem, `${name}: readOnlyRootFilesystem`).toBe(true);
  // The migrate Job runs tsx, which writes its compile cache to /tmp and exits 1
  // when it cannot; the service writes nothing, but keeps the same writable /tmp.
  const tmpMount = (container.volumeMounts ?? []).find((m: Obj) => m.mountPath === "/tmp");
  expect(tmpMount, `${name}: a writable /tmp`).toBeDefined();
  expect(tmpMount.readOnly ?? false, `${name}: /tmp writable`).toBe(false);
  const tmpVolume = (pod.volumes ?? []).find((v: Obj) => v.name === tmpMount.name);
  expect(tmpVolume?.emptyDir, `${name}: /tmp is an emptyDir`).toBeDefined();

  const { requests, limits } = container.resources ?? {};
  for (const resource of ["cpu", "memory"]) {
    expect(requests?.[resource], `${name}: requests.${resource}`).toBeDefined();
    expect(limits?.[resource], `${name}: limits.${resource}`).toBeDefined();
    expect(quantity(requests[resource]), `${name}: requests.${resource} ≤ limits`).toBeLessThanOrEqual(quantity(limits[resource]));
  }
  const memoryLimit = quantity(limits.memory);

  const env: Obj[] = container.env ?? [];
  for (const entry of env) {
    expect([...APP_VARIABLES, ...NODE_RUNTIME_VARIABLES], `${name}: env ${entry.name} is documented`).toContain(entry.name);
    const secretRef = entry.valueFrom?.secretKeyRef;
    if (secretRef) expect(secretRef.name, `${name}: env ${entry.name} from the example Secret`).toBe(refs.secretName);
    const configRef = entry.valueFrom?.configMapKeyRef;
    if (configRef) expect(configRef.name, `${name}: env ${entry.name} from the ConfigMap`).toBe(refs.configMapName);
    if (SECRET_VARIABLES.includes(entry.name)) expect(entry.value, `${name}: ${entry.name} comes from the Secret`).toBeUndefined();
  }
  const nodeOptions = env.find((e) => e.name === "NODE_OPTIONS")?.value as string | undefined;
  const heap = nodeOptions ? /--max-old-space-size=(\d+)/.exec(nodeOptions) : null;
  if (heap) {
    expect(Number(heap[1]) * 2 ** 20, `${name}: the V8 heap cap leaves room below the memory limit`).toBeLessThan(memoryLimit * 0.75);
  }
}

/** The service's own containers: configuration through envFrom of the ConfigMap and the Secret. */
function checkServiceContainer(workload: Obj, refs: Refs): Obj {
  const name = `${workload.kind}/${workload.metadata?.name}`;
  const container = podSpecOf(workload).containers[0];
  const envFrom: Obj[] = container.envFrom ?? [];
  expect(envFrom.map((e) => e.configMapRef?.name).filter(Boolean), `${name}: envFrom the ConfigMap`).toEqual([refs.configMapName]);
  expect(envFrom.map((e) => e.secretRef?.name).filter(Boolean), `${name}: envFrom the Secret`).toEqual([refs.secretName]);
  expect(container.command, `${name}: the image's entrypoint runs (no command override)`).toBeUndefined();
  expect(quantity(container.resources.limits.memory), `${name}: memory limit bounded (the batch size bounds memory)`).toBeLessThanOrEqual(
    512 * 2 ** 20,
  );
  return container;
}

function checkCronJob(cronJob: Obj, refs: Refs): void {
  expect(cronJob.kind).toBe("CronJob");
  expect(cronJob.spec.schedule, "every 5 minutes").toBe("*/5 * * * *");
  expect(cronJob.spec.concurrencyPolicy).toBe("Forbid");
  expect(cronJob.spec.startingDeadlineSeconds, "startingDeadlineSeconds").toBeGreaterThan(0);
  expect(cronJob.spec.startingDeadlineSeconds, "a late run is not started after the next is due").toBeLessThan(300);
  expect(cronJob.spec.successfulJobsHistoryLimit, "successfulJobsHistoryLimit").toBeGreaterThanOrEqual(1);
  expect(cronJob.spec.failedJobsHistoryLimit, "failedJobsHistoryLimit").toBeGreaterThanOrEqual(1);
  checkPod(cronJob, refs);
  const container = checkServiceContainer(cronJob, refs);
  // One cycle per Job: no command (sync is the default) and never --watch.
  expect(container.args ?? [], "the CronJob runs one sync cycle").toEqual([]);

  const rules: Obj[] = jobSpecOf(cronJob).podFailurePolicy?.rules ?? [];
  const failJobCodes = rules
    .filter((r) => r.action === "FailJob" && r.onExitCodes?.operator === "In")
    .flatMap((r) => r.onExitCodes.values as number[]);
  for (const code of PERMANENT_EXIT_CODES) expect(failJobCodes, `exit ${code} fails the Job without retries`).toContain(code);
  for (const code of RETRYABLE_EXIT_CODES) expect(failJobCodes, `exit ${code} may be retried`).not.toContain(code);
  for (const rule of rules.filter((r) => r.onExitCodes)) {
    expect(rule.onExitCodes.containerName, "podFailurePolicy names the container").toBe(container.name);
  }
}

/** The `--watch` Deployment: one replica, no overlap on rollout, probes and scraping on the metrics port. */
function checkWatchDeployment(deployment: Obj, refs: Refs, metricsPort: number): void {
  expect(deployment.kind).toBe("Deployment");
  expect(deployment.spec.replicas, "one watcher").toBe(1);
  expect(deployment.spec.strategy?.type, "no two watchers during a rollout").toBe("Recreate");
  const template = deployment.spec.template;
  expect(template.metadata.labels, "the selector matches the pods").toMatchObject(deployment.spec.selector.matchLabels);
  const annotations = template.metadata.annotations ?? {};
  expect(annotations["prometheus.io/scrape"]).toBe("true");
  expect(Number(annotations["prometheus.io/port"]), "scraped on the metrics port").toBe(metricsPort);
  expect(annotations["prometheus.io/path"]).toBe("/metrics");
  const pod = template.spec;
  expect(pod.restartPolicy ?? "Always").toBe("Always");
  expect(pod.terminationGracePeriodSeconds, "grace period ≥ budget + margin").toBeGreaterThanOrEqual(refs.budgetS + MIN_GRACE_MARGIN_S);
  const container = pod.containers[0];
  expect(container.args, "the Deployment runs --watch").toEqual(["--watch"]);
  expect(container.command, "the image's entrypoint runs").toBeUndefined();
  const port = (container.ports ?? []).find((p: Obj) => p.containerPort === metricsPort);
  expect(port, "the metrics port is declared").toBeDefined();
  for (const probe of [container.livenessProbe, container.readinessProbe]) {
    expect(probe?.httpGet?.path, "probes ask /healthz").toBe("/healthz");
    expect([port.name, metricsPort], "probes ask the metrics port").toContain(probe.httpGet.port);
  }
  const envFrom: Obj[] = container.envFrom ?? [];
  expect(envFrom.map((e) => e.configMapRef?.name).filter(Boolean)).toEqual([refs.configMapName]);
  expect(envFrom.map((e) => e.secretRef?.name).filter(Boolean)).toEqual([refs.secretName]);
  const security = { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
  expect(security.runAsNonRoot).toBe(true);
  expect(security.readOnlyRootFilesystem).toBe(true);
  expect(security.allowPrivilegeEscalation).toBe(false);
  for (const resource of ["cpu", "memory"]) expect(container.resources?.limits?.[resource], `limits.${resource}`).toBeDefined();
}

function checkReindexJob(job: Obj, refs: Refs): void {
  expect(job.kind).toBe("Job");
  checkPod(job, refs);
  const container = checkServiceContainer(job, refs);
  expect(container.args, "the reindex Job runs `reindex`").toEqual(["reindex"]);
}

function checkMigrateJob(job: Obj, refs: Refs, serviceImage: string): void {
  expect(job.kind).toBe("Job");
  checkPod(job, refs);
  const container = podSpecOf(job).containers[0];
  const env: Obj[] = container.env ?? [];
  const fromSecret = env.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef;
  const viaEnvFrom = (container.envFrom ?? []).some((e: Obj) => e.secretRef?.name === refs.secretName);
  expect(Boolean(fromSecret && fromSecret.key === "DATABASE_URL") || viaEnvFrom, "migrate gets DATABASE_URL from the Secret").toBe(true);
  // The migrations need the WASM schema engine, a devDependency: the `migrate` image, not the runtime one.
  expect(imageName(container.image), "migrate runs the Dockerfile's migrate target").not.toBe(imageName(serviceImage));
}

function imageName(image: string): string {
  return image.replace(/@sha256:.*$/, "").replace(/:[^:/]+$/, "");
}

function imageTag(image: string): string | undefined {
  const match = /:([^:/@]+)(@sha256:.*)?$/.exec(image);
  return match?.[1];
}

function checkCompose(compose: Obj, budgetS: number): void {
  const services: Obj = compose.services ?? {};
  for (const name of ["postgres", "elasticsearch", "migrate", "etl"]) expect(Object.keys(services), `service ${name}`).toContain(name);

  const es = services.elasticsearch;
  expect(es.image, "Elasticsearch image").toMatch(/^docker\.elastic\.co\/elasticsearch\/elasticsearch:(8|9)\.\d+\.\d+$/);
  const esEnv = composeEnv(es.environment);
  expect(esEnv["discovery.type"]).toBe("single-node");
  expect(String(esEnv["xpack.security.enabled"])).toBe("false");
  expect(esEnv.ES_JAVA_OPTS).toMatch(/-Xmx1g/);
  expect(services.postgres.image, "PostgreSQL 15").toMatch(/^postgres:15(\.|-|$)/);
  for (const name of ["postgres", "elasticsearch"]) {
    const test = services[name].healthcheck?.test;
    expect(Array.isArray(test) ? test.length : String(test ?? "").length, `${name} has a healthcheck`).toBeGreaterThan(0);
  }

  const etl = services.etl;
  expect(etl.build, "etl is built from the Dockerfile").toBeDefined();
  expect(etl.build.target ?? "runtime", "etl runs the runtime stage").toBe("runtime");
  expect(etl.command, "etl runs in --watch mode").toContain("--watch");
  expect(etl.depends_on?.postgres?.condition).toBe("service_healthy");
  expect(etl.depends_on?.elasticsearch?.condition).toBe("service_healthy");
  expect(etl.depends_on?.migrate?.condition).toBe("service_completed_successfully");
  expect(etl.stop_grace_period, "etl stop_grace_period").toBeDefined();
  expect(durationS(etl.stop_grace_period), "etl stop_grace_period ≥ budget + margin").toBeGreaterThanOrEqual(budgetS + MIN_GRACE_MARGIN_S);
  if (etl.read_only) expect(etl.tmpfs ?? [], "read-only etl has a writable /tmp").toContain("/tmp");

  const migrate = services.migrate;
  expect(migrate.build?.target, "migrate uses the Dockerfile's migrate target").toBe("migrate");
  expect(migrate.depends_on?.postgres?.condition).toBe("service_healthy");

  // The services built from this repository read only documented variables.
  for (const [name, service] of Object.entries(services)) {
    if (!service.build) continue;
    const allowed = name === "seed" ? ["DATABASE_URL", ...SEED_VARIABLES] : APP_VARIABLES;
    for (const key of Object.keys(composeEnv(service.environment))) {
      expect(allowed, `compose ${name}: ${key} is documented`).toContain(key);
    }
  }
  for (const [name, service] of Object.entries(services)) {
    if (!service.image || service.build) continue;
    const tag = imageTag(service.image);
    expect(tag, `${name}: image pinned`).toBeDefined();
    expect(tag, `${name}: image pinned`).not.toBe("latest");
  }
}

interface DockerfileFacts {
  runtime: Stage;
  migrate?: Stage;
}

function checkDockerfile(text: string, migrateScript: string): DockerfileFacts {
  const { stages } = parseDockerfile(text);
  expect(stages.length, "multi-stage build").toBeGreaterThanOrEqual(2);
  const external = stages.filter((s) => !stages.some((p) => p.name === s.from));
  for (const stage of external) {
    expect(stage.from, `stage ${stage.name}: base image node:24 bookworm-slim, pinned to a release`).toMatch(
      /^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/,
    );
    expect(stage.from, `stage ${stage.name}: the Node release the devDependency \`node\` pins (what the tests ran on)`).toContain(
      `node:${pinnedNode()}-`,
    );
  }
  // `docker build` without --target builds the last stage: that is the runtime image.
  const runtime = stages.at(-1)!;
  const runtimeLine = lineage(stages, runtime);
  const installs = runtimeLine
    .flatMap((s) => s.instructions)
    .filter((i) => i.keyword === "RUN" && /\bnpm (ci|install)\b(?! --global| -g)/.test(i.args));
  expect(installs.length, "the runtime stage installs its dependencies").toBeGreaterThan(0);
  for (const install of installs) expect(install.args, "every install in the runtime image omits devDependencies").toMatch(/--omit[= ]dev/);
  expect(
    runtime.instructions.some((i) => i.keyword === "COPY" && /--from=\S+/.test(i.args) && /\bsrc\b/.test(i.args)),
    "the runtime stage copies the sources with the generated client from a build stage",
  ).toBe(true);
  expect(effective(stages, runtime, "ENV") ?? "", "NODE_ENV=production").toMatch(/NODE_ENV=production/);

  const userOf = (stage: Stage) => (effective(stages, stage, "USER") ?? "root").split(":")[0]!;
  expect(["root", "0"], "the runtime image runs as a non-root user").not.toContain(userOf(runtime));
  expect(effective(stages, runtime, "STOPSIGNAL") ?? "SIGTERM", "stop signal").toMatch(/^(SIGTERM|15)$/);
  expect(
    runtimeLine.some((s) => s.instructions.some((i) => i.keyword === "STOPSIGNAL")) ||
      /tini|dumb-init/.test(effective(stages, runtime, "ENTRYPOINT") ?? ""),
    "STOPSIGNAL set (or an init that forwards signals)",
  ).toBe(true);

  const entrypoint = execForm(effective(stages, runtime, "ENTRYPOINT"), "runtime ENTRYPOINT");
  expect(entrypoint[0], "node runs the service directly (no npx, no shell)").toBe("node");
  // Node strips the (erasable) types itself: no loader, so no esbuild process and nothing written at start-up.
  expect(entrypoint, "runs src/main.ts with Node's own type stripping, no loader").toEqual(["node", "src/main.ts"]);
  expect(existsSync(path.join(ROOT, "src/main.ts")), "src/main.ts exists").toBe(true);

  const migrate = stages.find((s) => s.name === "migrate");
  if (migrate) {
    expect(["root", "0"], "the migrate image runs as a non-root user").not.toContain(userOf(migrate));
    const command = execForm(effective(stages, migrate, "ENTRYPOINT"), "migrate ENTRYPOINT").join(" ");
    expect(command, "the migrate stage runs the db:migrate command").toBe(migrateScript.replace(/^tsx /, "node --import tsx "));
    const script = command.split(" ").at(-1)!;
    expect(existsSync(path.join(ROOT, script)), `${script} exists`).toBe(true);
  }
  return { runtime, migrate };
}

/** Every path a COPY takes from the build context exists and is not excluded by .dockerignore. */
function checkBuildContext(dockerfile: string, ignore: string[]): void {
  const { stages } = parseDockerfile(dockerfile);
  const sources = stages
    .flatMap((s) => s.instructions)
    .filter((i) => (i.keyword === "COPY" || i.keyword === "ADD") && !/--from=/.test(i.args))
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((w) => !w.startsWith("--"))
        .slice(0, -1),
    );
  expect(sources.length).toBeGreaterThan(0);
  for (const source of sources) {
    if (source === ".") continue;
    expect(existsSync(path.join(ROOT, source)), `COPY source ${source} exists`).toBe(true);
    expect(dockerIgnored(ignore, source), `COPY source ${source} is in the build context`).toBe(false);
  }
  for (const needed of [
    "src/main.ts",
    "src/config.ts",
    "prisma/schema.prisma",
    "scripts/migrate.ts",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
  ]) {
    expect(dockerIgnored(ignore, needed), `${needed} is in the build context`).toBe(false);
  }
  for (const excluded of [
    "node_modules",
    "node_modules/tsx/package.json",
    ".git",
    "src/generated/prisma/client.ts",
    "test/manifests.test.ts",
    ".env",
  ]) {
    expect(dockerIgnored(ignore, excluded), `${excluded} is kept out of the build context`).toBe(true);
  }
}

// ---------------------------------------------------------------------------
// The files

/** The Node release the devDependency `node` pins. */
function pinnedNode(): string {
  return JSON.parse(read("package.json")).devDependencies.node;
}

function dbMigrateScript(): string {
  const pkg = JSON.parse(read("package.json"));
  // The contract's command until package.json carries the script.
  return pkg.scripts?.["db:migrate"] ?? "node --import tsx scripts/migrate.ts";
}

function refsFromFiles(): Refs {
  const configMap = one("k8s/configmap.yaml", "ConfigMap");
  const secret = one("k8s/secret.example.yaml", "Secret");
  return { configMapName: configMap.metadata.name, secretName: secret.metadata.name, budgetS: shutdownBudgetS(configMap) };
}

describe("contract", () => {
  it("the secret variables are variables the service reads", () => {
    for (const name of SECRET_VARIABLES) expect(APP_VARIABLES).toContain(name);
  });

  it("seed variables are the ones seed/seed.ts reads", () => {
    const seed = read("seed/seed.ts");
    for (const name of SEED_VARIABLES) expect(seed).toContain(name);
  });
});

describe("Kubernetes manifests", () => {
  it("parse, and every file is the expected kind", () => {
    expect(loadYaml("k8s/cronjob.yaml").map((d) => d.kind)).toEqual(["CronJob"]);
    expect(loadYaml("k8s/deployment.yaml").map((d) => d.kind)).toEqual(["Deployment"]);
    expect(loadYaml("k8s/reindex-job.yaml").map((d) => d.kind)).toEqual(["Job"]);
    expect(loadYaml("k8s/migrate-job.yaml").map((d) => d.kind)).toEqual(["Job"]);
    expect(loadYaml("k8s/configmap.yaml").map((d) => d.kind)).toEqual(["ConfigMap"]);
    expect(loadYaml("k8s/secret.example.yaml").map((d) => d.kind)).toEqual(["Secret"]);
  });

  it("ConfigMap: only documented, non-secret settings", () => {
    const configMap = one("k8s/configmap.yaml", "ConfigMap");
    expect(configMap.metadata.name).toBe("movies-etl-config");
    checkConfigMap(configMap);
  });

  it("example Secret: the secret keys only", () => {
    const secret = one("k8s/secret.example.yaml", "Secret");
    expect(secret.metadata.name).toBe("movies-etl-secrets");
    checkSecret(secret);
  });

  it("CronJob: every 5 min, Forbid, deadlines, retries, grace period, resources, envFrom, args", () => {
    checkCronJob(one("k8s/cronjob.yaml", "CronJob"), refsFromFiles());
  });

  it("watch Deployment: one replica, Recreate, --watch, probes on /healthz, scraped on the metrics port", () => {
    checkWatchDeployment(one("k8s/deployment.yaml", "Deployment"), refsFromFiles(), DEFAULT_METRICS_PORT);
    const cronContainer = podSpecOf(one("k8s/cronjob.yaml", "CronJob")).containers[0];
    expect(podSpecOf(one("k8s/deployment.yaml", "Deployment")).containers[0].image, "the service image").toBe(cronContainer.image);
  });

  it("reindex Job runs `reindex` with the same configuration", () => {
    const refs = refsFromFiles();
    checkReindexJob(one("k8s/reindex-job.yaml", "Job"), refs);
    const cronContainer = podSpecOf(one("k8s/cronjob.yaml", "CronJob")).containers[0];
    const reindexContainer = podSpecOf(one("k8s/reindex-job.yaml", "Job")).containers[0];
    expect(reindexContainer.image, "reindex runs the service image").toBe(cronContainer.image);
  });

  it("migrate Job runs the migrate image with DATABASE_URL from the Secret", () => {
    const cronContainer = podSpecOf(one("k8s/cronjob.yaml", "CronJob")).containers[0];
    checkMigrateJob(one("k8s/migrate-job.yaml", "Job"), refsFromFiles(), cronContainer.image);
  });
});

describe("docker-compose.yml", () => {
  it("has the stack, healthchecks, dependency conditions and documented variables", () => {
    const [compose] = loadYaml("docker-compose.yml");
    checkCompose(compose!, DEFAULT_SHUTDOWN_TIMEOUT_S);
    const etlEnv = composeEnv(compose!.services.etl.environment);
    if (etlEnv.ETL_SHUTDOWN_TIMEOUT_S) checkCompose(compose!, Number(etlEnv.ETL_SHUTDOWN_TIMEOUT_S));
  });

  it("the seed service runs a script that exists", () => {
    const [compose] = loadYaml("docker-compose.yml");
    const seed = compose!.services.seed;
    if (!seed) return;
    const entrypoint = (seed.entrypoint ?? []) as string[];
    expect(entrypoint.join(" ")).toMatch(/seed\/seed\.ts$/);
    expect(existsSync(path.join(ROOT, entrypoint.at(-1)!))).toBe(true);
    expect(seed.build?.target, "seed needs the build-stage dependencies").toBe("migrate");
  });
});

describe("Dockerfile and .dockerignore", () => {
  it("multi-stage, production-only runtime, non-root, SIGTERM, node entrypoint", () => {
    checkDockerfile(read("Dockerfile"), dbMigrateScript());
  });

  it("the build context holds what the Dockerfile copies and nothing it should not", () => {
    checkBuildContext(read("Dockerfile"), dockerignorePatterns(read(".dockerignore")));
  });
});

// ---------------------------------------------------------------------------

describe("checks can fail", () => {
  /** The check rejects the variant through one of its assertions (not by crashing on it). */
  const rejects = (check: () => void, what: string) => {
    let failure: unknown;
    try {
      check();
    } catch (error) {
      failure = error;
    }
    expect(failure, `${what}: rejected`).toBeDefined();
    expect((failure as Error).name, `${what}: rejected by an assertion, not ${String(failure)}`).toBe("AssertionError");
  };
  const refs = () => refsFromFiles();
  const cronJob = () => one("k8s/cronjob.yaml", "CronJob");
  const mutate = (doc: Obj, change: (d: Obj) => void): Obj => {
    const copy = structuredClone(doc);
    change(copy);
    return copy;
  };
  const cronContainer = (d: Obj) => podSpecOf(d).containers[0];

  it("CronJob variants that break the contract are rejected", () => {
    const bad: Array<[string, (d: Obj) => void]> = [
      ["concurrency Allow", (d) => (d.spec.concurrencyPolicy = "Allow")],
      ["grace period = budget", (d) => (podSpecOf(d).terminationGracePeriodSeconds = 10)],
      ["no activeDeadlineSeconds", (d) => delete jobSpecOf(d).activeDeadlineSeconds],
      ["deadline below the grace period", (d) => (jobSpecOf(d).activeDeadlineSeconds = 5)],
      ["no backoffLimit", (d) => delete jobSpecOf(d).backoffLimit],
      ["no memory limit", (d) => delete cronContainer(d).resources.limits.memory],
      ["requests above limits", (d) => (cronContainer(d).resources.requests.memory = "1Gi")],
      ["wrong Secret name", (d) => (cronContainer(d).envFrom[1].secretRef.name = "etl-secrets")],
      ["no ConfigMap", (d) => cronContainer(d).envFrom.splice(0, 1)],
      ["--watch in a CronJob", (d) => (cronContainer(d).args = ["--watch"])],
      ["undocumented variable", (d) => (cronContainer(d).env ??= []).push({ name: "ETL_BATCHSIZE", value: "10" })],
      ["password in plain env", (d) => (cronContainer(d).env ??= []).push({ name: "DATABASE_URL", value: "postgresql://u:p@h/db" })],
      ["heap cap above the limit", (d) => (cronContainer(d).env = [{ name: "NODE_OPTIONS", value: "--max-old-space-size=512" }])],
      ["root filesystem writable", (d) => (cronContainer(d).securityContext.readOnlyRootFilesystem = false)],
      ["read-only root without /tmp", (d) => (cronContainer(d).volumeMounts = [])],
      ["runs as root", (d) => (podSpecOf(d).securityContext = { runAsUser: 0 })],
      ["restartPolicy OnFailure", (d) => (podSpecOf(d).restartPolicy = "OnFailure")],
      ["exit 3 fails the Job", (d) => jobSpecOf(d).podFailurePolicy.rules[0].onExitCodes.values.push(3)],
    ];
    for (const [what, change] of bad) {
      rejects(() => checkCronJob(mutate(cronJob(), change), refs()), what);
    }
    rejects(() => checkCronJob(cronJob(), { ...refs(), budgetS: 30 }), "a 30 s budget needs a longer grace period");
  });

  it("watch Deployment variants that break the contract are rejected", () => {
    const deployment = () => one("k8s/deployment.yaml", "Deployment");
    const bad: Array<[string, (d: Obj) => void]> = [
      ["two replicas", (d) => (d.spec.replicas = 2)],
      ["rolling update (two watchers at once)", (d) => (d.spec.strategy = { type: "RollingUpdate" })],
      ["no --watch", (d) => (cronContainer(d).args = [])],
      ["liveness on another path", (d) => (cronContainer(d).livenessProbe.httpGet.path = "/")],
      ["no readiness probe", (d) => delete cronContainer(d).readinessProbe],
      ["scraped on another port", (d) => (d.spec.template.metadata.annotations["prometheus.io/port"] = "8080")],
      ["grace period = budget", (d) => (podSpecOf(d).terminationGracePeriodSeconds = 10)],
      ["root filesystem writable", (d) => (cronContainer(d).securityContext.readOnlyRootFilesystem = false)],
    ];
    for (const [what, change] of bad) rejects(() => checkWatchDeployment(mutate(deployment(), change), refs(), DEFAULT_METRICS_PORT), what);
  });

  it("reindex, ConfigMap and Secret variants are rejected", () => {
    const reindex = one("k8s/reindex-job.yaml", "Job");
    rejects(
      () =>
        checkReindexJob(
          mutate(reindex, (d) => (cronContainer(d).args = [])),
          refs(),
        ),
      "reindex without `reindex`",
    );
    const configMap = one("k8s/configmap.yaml", "ConfigMap");
    rejects(() => checkConfigMap(mutate(configMap, (d) => (d.data.DATABASE_URL = "postgresql://x@h/db"))), "secret in the ConfigMap");
    rejects(() => checkConfigMap(mutate(configMap, (d) => (d.data.ETL_BATCH_SIZE = 500))), "a number value in the ConfigMap");
    rejects(() => checkConfigMap(mutate(configMap, (d) => (d.data.ETL_LOGLEVEL = "info"))), "misspelt ConfigMap key");
    const secret = one("k8s/secret.example.yaml", "Secret");
    rejects(() => checkSecret(mutate(secret, (d) => delete d.stringData.DATABASE_URL)), "Secret without DATABASE_URL");
    rejects(() => checkSecret(mutate(secret, (d) => (d.stringData.ETL_BATCH_SIZE = "500"))), "a setting in the Secret");
    expect(shutdownBudgetS(mutate(configMap, (d) => delete d.data.ETL_SHUTDOWN_TIMEOUT_S))).toBe(DEFAULT_SHUTDOWN_TIMEOUT_S);
  });

  it("compose variants are rejected", () => {
    const [compose] = loadYaml("docker-compose.yml");
    const bad: Array<[string, (d: Obj) => void]> = [
      ["no migrate service", (d) => delete d.services.migrate],
      ["Elasticsearch 7", (d) => (d.services.elasticsearch.image = "docker.elastic.co/elasticsearch/elasticsearch:7.17.0")],
      ["etl without --watch", (d) => (d.services.etl.command = [])],
      ["etl starts before migrations", (d) => (d.services.etl.depends_on.migrate.condition = "service_started")],
      ["no Postgres healthcheck", (d) => delete d.services.postgres.healthcheck],
      ["short stop grace period", (d) => (d.services.etl.stop_grace_period = "10s")],
      ["undocumented variable", (d) => (d.services.etl.environment.ELASTIC_URL = "http://x")],
      ["unpinned image", (d) => (d.services.postgres.image = "postgres:latest")],
    ];
    for (const [what, change] of bad) rejects(() => checkCompose(mutate(compose!, change), DEFAULT_SHUTDOWN_TIMEOUT_S), what);
  });

  it("Dockerfile variants are rejected", () => {
    const dockerfile = read("Dockerfile");
    const RUNTIME_ENTRYPOINT = /^ENTRYPOINT \["node", "src\/main\.ts"\]$/m;
    const script = dbMigrateScript();
    const bad: Array<[string, string]> = [
      ["runs as root", dockerfile.replace(/^USER .*$/gm, "USER root")],
      ["no USER", dockerfile.replace(/^USER .*$/gm, "")],
      ["dev dependencies in the runtime", dockerfile.replace(/npm ci --omit=dev/g, "npm ci")],
      ["single stage", `FROM node:${pinnedNode()}-bookworm-slim\nUSER 1000\nRUN npm ci --omit=dev\nENTRYPOINT ["node", "src/main.ts"]\n`],
      ["shell-form entrypoint", dockerfile.replace(RUNTIME_ENTRYPOINT, "ENTRYPOINT node src/main.ts")],
      ["npx entrypoint", dockerfile.replace(RUNTIME_ENTRYPOINT, 'ENTRYPOINT ["npx", "tsx", "src/main.ts"]')],
      ["the tsx loader in the entrypoint", dockerfile.replace(RUNTIME_ENTRYPOINT, 'ENTRYPOINT ["node", "--import", "tsx", "src/main.ts"]')],
      ["unpinned base image", dockerfile.replace(/node:24\.\d+\.\d+-bookworm-slim/, "node:24-bookworm-slim")],
      ["Node 20", dockerfile.replace(/node:24\.\d+\.\d+-bookworm-slim/, "node:20.20.2-bookworm-slim")],
      ["another Node 24 release than the tests run", dockerfile.replace(/node:24\.\d+\.\d+-bookworm-slim/, "node:24.0.0-bookworm-slim")],
      ["no STOPSIGNAL", dockerfile.replace(/^STOPSIGNAL .*$/gm, "")],
      ["SIGKILL", dockerfile.replace(/^STOPSIGNAL .*$/gm, "STOPSIGNAL SIGKILL")],
    ];
    for (const [what, text] of bad) {
      expect(text, `${what}: the variant differs`).not.toBe(dockerfile);
      rejects(() => checkDockerfile(text, script), what);
    }
    rejects(() => checkDockerfile(dockerfile, "node --import tsx scripts/other.ts"), "migrate command drift");
  });

  it(".dockerignore variants are rejected", () => {
    const dockerfile = read("Dockerfile");
    const ignore = dockerignorePatterns(read(".dockerignore"));
    rejects(
      () =>
        checkBuildContext(
          dockerfile,
          ignore.filter((p) => p !== "src/generated"),
        ),
      "src/generated in the context",
    );
    rejects(() => checkBuildContext(dockerfile, [...ignore, "prisma"]), "prisma/ ignored");
    rejects(() => checkBuildContext(dockerfile, [...ignore, "scripts/*.mjs"]), "the postinstall script ignored");
    rejects(
      () =>
        checkBuildContext(
          dockerfile,
          ignore.filter((p) => p !== "node_modules" && p !== "**/node_modules"),
        ),
      "node_modules in the context",
    );
    expect(dockerIgnored(["*", "!src"], "src/main.ts")).toBe(false);
    expect(dockerIgnored(["*", "!src"], "test/x.ts")).toBe(true);
  });
});
