import type { App } from "../app.ts";
import { ExitCode } from "../errors.ts";
import { filmBatchLimits } from "../extract/film-batch.ts";
import { isInStep, verifyIndex } from "../verify/verify-index.ts";

/** `movies-etl verify`: compare every document with the catalogue. */
export async function verifyCommand(app: App, options: { json: boolean; print(line: string): void }): Promise<ExitCode> {
  const index = app.config.elasticsearch.index;
  const report = await verifyIndex({ ...app, index, limits: filmBatchLimits(app.config) });
  if (options.json) {
    options.print(JSON.stringify({ index, inStep: isInStep(report), ...report }));
  } else {
    for (const id of report.missing) options.print(`missing    ${id}`);
    for (const id of report.extra) options.print(`extra      ${id}`);
    for (const d of report.different) options.print(`different  ${d.id}  ${d.fields.join(",")}`);
    for (const u of report.unindexable) options.print(`unindexable ${u.id}  ${u.reason}`);
    if (report.truncated) options.print("(list truncated; counts below are complete)");
  }
  const { missing, extra, different, unindexable } = report.counts;
  const fields = { index, checked: report.checked, missing, extra, different, unindexable };
  if (isInStep(report)) {
    app.log.info("the index equals the catalogue", fields);
    return ExitCode.ok;
  }
  app.log.error("the index differs from the catalogue", fields);
  return ExitCode.differs;
}
