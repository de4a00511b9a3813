import { spawn, spawnSync } from "node:child_process";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

export const PUSHGATEWAY_BINARY = process.env.PUSHGATEWAY_BINARY ?? "prometheus-pushgateway";

export interface RunningPushgateway {
  url: string;
  stop(): Promise<void>;
}

/** A real Prometheus Pushgateway (Debian's prometheus-pushgateway) on a free port, keeping nothing on disk. */
export async function startPushgateway(): Promise<RunningPushgateway> {
  if (spawnSync(PUSHGATEWAY_BINARY, ["--version"]).error) {
    throw new Error(
      `${PUSHGATEWAY_BINARY} is not installed: npm run setup installs Debian's prometheus-pushgateway (or set PUSHGATEWAY_BINARY)`,
    );
  }
  const port = await freePort();
  const child = spawn(PUSHGATEWAY_BINARY, [`--web.listen-address=127.0.0.1:${port}`, "--persistence.file="], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok === true, 20_000, "the Pushgateway");
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
