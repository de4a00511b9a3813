// Progress on stderr: one line rewritten in place on a terminal, plain lines
// (each tenth of a table, and its end) when piped to a file or CI log.
import type { SeedProgress } from "./seed-catalogue.ts";

export interface ProgressReporter {
  progress(progress: SeedProgress): void;
  /** A milestone line; clears the in-place line first. */
  line(text: string): void;
}

export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const interactive = stream.isTTY === true;
  let lastDrawn = 0;
  let lastTenth = new Map<string, number>();
  let dirty = false;

  const describe = (p: SeedProgress): string => {
    const percent = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
    const count = `${p.done.toLocaleString("en")}/${p.total.toLocaleString("en")}`;
    if (p.table === "indexes") return `seed indexes: ${count} statements (${percent}%)${p.step ? `: ${p.step}` : ""}`;
    const unit = p.table.endsWith("_film_work") ? `films, ${p.rows.toLocaleString("en")} rows` : "rows";
    return `seed ${p.table}: ${count} ${unit} (${percent}%)`;
  };

  return {
    progress(p) {
      if (interactive) {
        const now = Date.now();
        if (now - lastDrawn < 100 && p.done < p.total) return;
        lastDrawn = now;
        stream.write(`\r\x1b[K${describe(p)}`);
        dirty = true;
        return;
      }
      // Index statements are few and slow: each gets a line.
      const tenth = p.table === "indexes" ? p.done : p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
      if (tenth === lastTenth.get(p.table)) return;
      lastTenth.set(p.table, tenth);
      stream.write(`${describe(p)}\n`);
    },
    line(text) {
      if (dirty) stream.write("\r\x1b[K");
      dirty = false;
      stream.write(`${text}\n`);
      lastTenth = new Map();
    },
  };
}
