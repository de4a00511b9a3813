#!/usr/bin/env node
// Installs Debian's prometheus-pushgateway, which the metrics tests start (a
// real Pushgateway, not a fake). Used by `npm run setup` and CI; a no-op when
// it is installed. Needs root and apt-get; otherwise it says what to do.
import { spawnSync } from "node:child_process";

const installed = !spawnSync("prometheus-pushgateway", ["--version"]).error;
if (installed) process.exit(0);

const hasApt = !spawnSync("apt-get", ["--version"]).error;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!hasApt || !isRoot) {
  console.error(
    "prometheus-pushgateway is not installed; the metrics tests need it. " +
      (hasApt
        ? "Run: sudo apt-get install prometheus-pushgateway"
        : "Install the Prometheus Pushgateway and put it on PATH (or set PUSHGATEWAY_BINARY)."),
  );
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
let result = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "prometheus-pushgateway"], { stdio: "inherit", env });
if (result.status !== 0) {
  // A fresh machine may not have read the package lists yet.
  spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
  result = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "prometheus-pushgateway"], { stdio: "inherit", env });
}
process.exit(result.status ?? 1);
