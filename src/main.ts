// The entry point: first the memory settings (they may restart the process,
// see cli/memory-settings.ts), then the command line, loaded only once they hold.
import { relaunchWithMemorySettings } from "./cli/memory-settings.ts";

relaunchWithMemorySettings(process, process.env);
const { main } = await import("./cli/run.ts");
process.exit(await main(process.argv.slice(2)));
