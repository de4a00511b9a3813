#!/usr/bin/env node
// `npm run setup`: everything a fresh machine needs before the first run, and
// safe to repeat: the Pushgateway the metrics tests use, the local search
// engine, the migrated database, and a seeded catalogue when the catalogue is empty.
import { spawnSync } from "node:child_process";
import pg from "pg";
// Node 24 runs the TypeScript module as it is (erasable syntax only).
import { DEFAULT_DATABASE_URL } from "../src/config.ts";

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

function npm(...args) {
  const result = spawnSync("npm", ["run", "--silent", ...args], { stdio: "inherit", env: process.env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// The metrics tests start a real Pushgateway; a failed install only warns, the ETL itself does not need it.
const pushgateway = spawnSync(process.execPath, [new URL("./install-pushgateway.mjs", import.meta.url).pathname], { stdio: "inherit" });
if (pushgateway.status !== 0) console.warn("setup: the Pushgateway is missing; `npm test` needs it for the metrics tests");

if (!process.env.ELASTICSEARCH_URL) npm("engine:start");
npm("db:migrate");

const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
const { rows } = await client.query("SELECT count(*)::int AS films FROM content.film_work");
await client.end();
if (rows[0].films === 0) npm("db:seed");
else console.log(`catalogue already holds ${rows[0].films} films: not seeding`);
