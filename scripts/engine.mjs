#!/usr/bin/env node
// Local search engine for tests and local runs (see test/engine/README.md).
//
//   node scripts/engine.mjs start|stop|status
//
// ENGINE_PORT (default 9200)  HTTP port on 127.0.0.1; data, log and pid file live in .engine/<port>/
// ENGINE_HEAP (default 1g)    JVM heap (-Xms/-Xmx)
// ENGINE_FLAVOR               elasticsearch (default: answers the Elasticsearch 8 client as Elasticsearch 8)
//                             or opensearch (stock OpenSearch HTTP, no bridge)
// ENGINE_START_TIMEOUT        seconds to wait for a green/yellow cluster (default 180)
// ENGINE_JAVA_HOME / JAVA_HOME  JDK to run (else `java` on PATH)
//
// Plain Node ESM, no dependencies.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENGINE_DIR = path.join(ROOT, "test", "engine");
const TARGET = path.join(ENGINE_DIR, "target");
const JAR = path.join(TARGET, "movies-etl-engine.jar");
const LIB = path.join(TARGET, "lib");
const MAIN_CLASS = "moviesetl.engine.EngineMain";

const PORT = parsePort(process.env.ENGINE_PORT ?? "9200");
const HEAP = process.env.ENGINE_HEAP || "1g";
const FLAVOR = process.env.ENGINE_FLAVOR || "elasticsearch";
if (FLAVOR !== "elasticsearch" && FLAVOR !== "opensearch") fail(`ENGINE_FLAVOR must be elasticsearch or opensearch, got "${FLAVOR}"`);
const START_TIMEOUT_MS = Number(process.env.ENGINE_START_TIMEOUT || 180) * 1000;
const HOME = path.join(ROOT, ".engine", String(PORT));
const LOG = path.join(HOME, "engine.log");
const PID_FILE = path.join(HOME, "engine.pid"); // written by the JVM once it holds the data directory
const URL_BASE = `http://127.0.0.1:${PORT}`;

function parsePort(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`ENGINE_PORT must be a port number, got "${value}"`);
  return n;
}

function fail(message) {
  console.error(`engine: ${message}`);
  process.exit(1);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Cluster health status ("green" | "yellow" | "red") if something answers like a search engine, else null. */
async function health() {
  try {
    const res = await fetch(`${URL_BASE}/_cluster/health`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    const body = await res.json();
    return typeof body.status === "string" ? body.status : null;
  } catch {
    return null;
  }
}

const healthy = (status) => status === "green" || status === "yellow";

/** The flavor of the engine answering on the port: the bridge sends Elastic's product header. */
async function runningFlavor() {
  try {
    const res = await fetch(`${URL_BASE}/`, { signal: AbortSignal.timeout(2000) });
    return res.headers.get("x-elastic-product") === "Elasticsearch" ? "elasticsearch" : "opensearch";
  } catch {
    return null;
  }
}

function readPid() {
  try {
    const pid = Number(fs.readFileSync(PID_FILE, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True if pid is alive and is one of our engine JVMs (guards against a recycled pid). */
function isEngineProcess(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(MAIN_CLASS);
  } catch {
    return true; // no /proc (not Linux): trust the pid file
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** This run's part of the log: the start-up error (if any) and the last lines, without stack frames. */
function logTail(lines = 30) {
  let text;
  try {
    text = fs.readFileSync(LOG, "utf8");
  } catch {
    return "(no log)";
  }
  const run = text
    .slice(Math.max(0, text.lastIndexOf("===== engine start")))
    .trimEnd()
    .split("\n");
  const failure = run.find((l) => l.startsWith("engine: start-up failed:"));
  const tail = run.filter((l) => !/^\s+at |^\s+\.\.\. \d+ more/.test(l)).slice(-lines);
  return [...(failure && !tail.includes(failure) ? [failure, "..."] : []), ...tail].join("\n");
}

function javaBin() {
  const home = process.env.ENGINE_JAVA_HOME || process.env.JAVA_HOME;
  return home ? path.join(home, "bin", "java") : "java";
}

function newestMtime(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

function buildIfNeeded() {
  let reason = null;
  if (!fs.existsSync(JAR) || !fs.existsSync(LIB)) {
    reason = "build output missing";
  } else {
    const sources = Math.max(newestMtime(path.join(ENGINE_DIR, "pom.xml")), newestMtime(path.join(ENGINE_DIR, "src")));
    if (sources > fs.statSync(JAR).mtimeMs) reason = "engine sources changed";
  }
  if (!reason) return;
  console.log(`engine: building (${reason}) with Maven...`);
  fs.mkdirSync(HOME, { recursive: true });
  const buildLog = path.join(HOME, "build.log");
  const out = fs.openSync(buildLog, "w");
  const r = spawnSync("mvn", ["-B", "-q", "-Dstyle.color=never", "-f", path.join(ENGINE_DIR, "pom.xml"), "package"], {
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  if (r.error) fail(`could not run mvn: ${r.error.message}`);
  if (r.status !== 0 || !fs.existsSync(JAR)) {
    const tail = fs.readFileSync(buildLog, "utf8").trimEnd().split("\n").slice(-40).join("\n");
    fail(`Maven build failed (full output: ${path.relative(ROOT, buildLog)}):\n${tail}`);
  }
}

async function start() {
  const t0 = Date.now();
  const status = await health();
  if (healthy(status)) {
    const running = await runningFlavor();
    if (running !== FLAVOR)
      fail(`an engine of flavor ${running} already runs on ${URL_BASE}; stop it first (ENGINE_FLAVOR=${FLAVOR} asked)`);
    console.log(`engine: already running on ${URL_BASE} (${status}, ${running})`);
    return;
  }
  if (status) fail(`something answers on ${URL_BASE} with cluster status "${status}"; not starting another engine`);

  // An engine of ours that is still starting (e.g. a concurrent `start`): just wait for it.
  const existing = readPid();
  let child = null;
  if (existing && isEngineProcess(existing)) {
    console.log(`engine: pid ${existing} is starting on ${URL_BASE}, waiting...`);
  } else {
    buildIfNeeded();
    fs.mkdirSync(path.join(HOME, "tmp"), { recursive: true });
    fs.rmSync(PID_FILE, { force: true });
    const log = fs.openSync(LOG, "a");
    fs.writeSync(log, `\n===== engine start ${new Date().toISOString()} port ${PORT} heap ${HEAP} flavor ${FLAVOR} =====\n`);
    const args = [
      `-Xms${HEAP}`,
      `-Xmx${HEAP}`,
      "-XX:+UseG1GC",
      "-XX:+ExitOnOutOfMemoryError",
      "-Xss1m",
      "-Djava.awt.headless=true",
      "-Dfile.encoding=UTF-8",
      `-Djava.io.tmpdir=${path.join(HOME, "tmp")}`,
      "-Dio.netty.noUnsafe=true",
      "-Dio.netty.noKeySetOptimization=true",
      "-Dio.netty.recycler.maxCapacityPerThread=0",
      "-Dlog4j.shutdownHookEnabled=false",
      "-Dlog4j2.disable.jmx=true",
      "-cp",
      `${JAR}${path.delimiter}${path.join(LIB, "*")}`,
      MAIN_CLASS,
      "--port",
      String(PORT),
      "--home",
      HOME,
      "--flavor",
      FLAVOR,
      "--pid-file",
      PID_FILE,
    ];
    child = spawn(javaBin(), args, { cwd: HOME, detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    child.on("error", (e) => fail(`could not run ${javaBin()}: ${e.message}`));
    child.unref();
  }

  const deadline = t0 + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(500);
    const s = await health();
    if (healthy(s)) {
      const pid = readPid() ?? child?.pid;
      console.log(
        `engine: ${FLAVOR} up on ${URL_BASE} (${s}, pid ${pid}) after ${((Date.now() - t0) / 1000).toFixed(1)} s; log ${path.relative(ROOT, LOG)}`,
      );
      return;
    }
    const pid = child?.pid ?? existing;
    if (pid && !isAlive(pid)) {
      // Lost a race with a concurrent start (data directory locked)? Then the other JVM will answer.
      const other = readPid();
      if (other && other !== pid && isEngineProcess(other)) continue;
      fail(`engine process exited during start-up. Last log lines (${path.relative(ROOT, LOG)}):\n${logTail()}`);
    }
  }
  if (child?.pid && isAlive(child.pid)) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {}
  }
  fail(
    `engine not green/yellow on ${URL_BASE} after ${START_TIMEOUT_MS / 1000} s (stopped it). Last log lines (${path.relative(ROOT, LOG)}):\n${logTail()}`,
  );
}

async function stop() {
  const pid = readPid();
  if (!pid || !isEngineProcess(pid)) {
    fs.rmSync(PID_FILE, { force: true });
    if (await health()) {
      fail(`something answers on ${URL_BASE} but it is not an engine started from ${path.relative(ROOT, HOME) || HOME}; not stopping it`);
    }
    console.log(`engine: not running on port ${PORT}`);
    return;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && isAlive(pid)) await sleep(200);
  if (isAlive(pid)) {
    console.log(`engine: pid ${pid} did not stop within 30 s, sending SIGKILL`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    while (isAlive(pid)) await sleep(100);
  }
  fs.rmSync(PID_FILE, { force: true });
  console.log(`engine: stopped (pid ${pid}, port ${PORT})`);
}

async function status() {
  const pid = readPid();
  const s = await health();
  if (pid && isEngineProcess(pid)) {
    console.log(`engine: pid ${pid}, ${URL_BASE} ${s ? `status ${s}` : "not answering (yet)"}`);
  } else if (s) {
    console.log(`engine: ${URL_BASE} answers (status ${s}) but was not started from ${path.relative(ROOT, HOME)}`);
  } else {
    console.log(`engine: not running on port ${PORT}`);
    process.exitCode = 3;
  }
}

const command = process.argv[2];
const commands = { start, stop, status };
if (!commands[command]) {
  console.error("usage: node scripts/engine.mjs start|stop|status   (env: ENGINE_PORT, ENGINE_HEAP, ENGINE_FLAVOR)");
  process.exit(2);
}
await commands[command]();
