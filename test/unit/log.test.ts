import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";

function capture(format: "json" | "pretty", secrets: string[]) {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format, secrets, write: (line) => lines.push(line) });
  return { log, lines };
}

describe("logging", () => {
  it("writes one JSON object per line when not on a terminal", () => {
    const { log, lines } = capture("json", []);
    log.info("sync finished", { written: 3 });
    log.debug("not shown");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "sync finished", written: 3 });
  });

  it("scrubs secrets wherever they appear, in both formats", () => {
    for (const format of ["json", "pretty"] as const) {
      const { log, lines } = capture(format, ['hunter2"quoted']);
      log.error("could not connect to postgresql://etl:anything-here@db/movies", {
        error: new Error('auth failed for "hunter2"quoted"'),
        url: "https://user:other-secret@es:9200",
      });
      const text = lines.join("\n");
      expect(text).not.toContain("anything-here");
      expect(text).not.toContain("other-secret");
      expect(text).not.toContain("hunter2");
      expect(text).toContain("[REDACTED]");
    }
  });
});
