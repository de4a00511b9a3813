#!/usr/bin/env node
// `npm run setup`: everything a fresh machine needs before the first run, and
// safe to repeat: the local search engine, the migrated database, and a seeded
// catalogue when the catalogue is empty.
import { spawnSync } from "node:child_process";
import pg from "pg";

const databaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/movies";

function npm(...args) {
  const result = spawnSync("npm", ["run", "--silent", ...args], { stdio: "inherit", env: process.env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!process.env.ELASTICSEARCH_URL) npm("engine:start");
npm("db:migrate");

const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
const { rows } = await client.query("SELECT count(*)::int AS films FROM content.film_work");
await client.end();
if (rows[0].films === 0) npm("db:seed");
else console.log(`catalogue already holds ${rows[0].films} films: not seeding`);
