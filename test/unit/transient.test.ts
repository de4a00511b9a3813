import { BrokenCircuitError, TaskCancelledError } from "cockatiel";
import { DatabaseError } from "pg-protocol";
import { describe, expect, it } from "vitest";
import { describeError, LockLostError } from "../../src/errors.ts";
import { PrismaClientKnownRequestError } from "../../src/generated/prisma/internal/prismaNamespace.ts";
import { EngineConnectionError, EngineResponseError, TransientBulkItemsError } from "../../src/load/engine.ts";
import { isPolicyFault, isTransientElasticsearchError, isTransientPostgresError } from "../../src/resilience/transient.ts";

/** A server error as the pg driver builds it. */
const pgError = (code: string, message = "server said no") =>
  Object.assign(new DatabaseError(message, 0, "error"), { code, severity: "ERROR" });

/** A Prisma error wrapping the driver adapter's classification, as Prisma 7 throws them. */
const prismaError = (code: string, cause: Record<string, unknown>) =>
  new PrismaClientKnownRequestError("\nInvalid `prisma.x()` invocation:\n\nfailed", {
    code,
    clientVersion: "7.10.0",
    meta: { driverAdapterError: { name: "DriverAdapterError", cause } },
  });

describe("transient or terminal: PostgreSQL", () => {
  it.each([
    ["a connection exception (class 08)", pgError("08006")],
    ["admin shutdown (a terminated backend)", pgError("57P01")],
    ["statement timeout", pgError("57014")],
    ["a serialization failure", pgError("40001")],
    ["a deadlock", pgError("40P01")],
    ["too many connections", pgError("53300")],
    ["the server unreachable, through Prisma", prismaError("P1001", { kind: "DatabaseNotReachable", host: "db", port: 5432 })],
    ["a connection closed, through Prisma", prismaError("P2010", { kind: "ConnectionClosed" })],
    [
      "a busy pool (interactive transaction could not start)",
      new PrismaClientKnownRequestError("busy", { code: "P2028", clientVersion: "7.10.0" }),
    ],
    ["a refused socket", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
    ["pg's own message when the socket dies", new Error("Connection terminated unexpectedly")],
  ])("retries %s", (_what, error) => {
    expect(isTransientPostgresError(error)).toBe(true);
  });

  it.each([
    ["a syntax error", pgError("42601")],
    ["a missing table, through Prisma", prismaError("P2021", { kind: "TableDoesNotExist", originalCode: "42P01" })],
    ["a database that does not exist", prismaError("P1003", { kind: "DatabaseDoesNotExist", originalCode: "3D000" })],
    ["a wrong password", prismaError("P1000", { kind: "AuthenticationFailed", originalCode: "28P01" })],
    ["a unique violation", pgError("23505")],
    ["our own verdict, even with a transient cause", new LockLostError("movies", pgError("57P01"))],
    ["anything else", new Error("boom")],
  ])("does not retry %s", (_what, error) => {
    expect(isTransientPostgresError(error)).toBe(false);
  });
});

describe("transient or terminal: the search engine", () => {
  it.each([
    ["429 too many requests", new EngineResponseError(429, "es_rejected_execution_exception", "queue full")],
    ["502", new EngineResponseError(502, undefined, "bad gateway")],
    ["503 (no master yet)", new EngineResponseError(503, "master_not_discovered_exception", undefined)],
    ["504", new EngineResponseError(504, undefined, undefined)],
    ["no answer at all", new EngineConnectionError("connect ECONNREFUSED")],
    ["bulk items refused for a while", new TransientBulkItemsError(3, "id: 429")],
  ])("retries %s", (_what, error) => {
    expect(isTransientElasticsearchError(error)).toBe(true);
  });

  it.each([
    ["400 a bad request", new EngineResponseError(400, "mapper_parsing_exception", "failed to parse")],
    ["403 a missing privilege", new EngineResponseError(403, "security_exception", "unauthorized")],
    ["404 a missing index", new EngineResponseError(404, "index_not_found_exception", "no such index")],
    ["409 a version conflict", new EngineResponseError(409, "version_conflict_engine_exception", "newer")],
    ["our own verdict", new LockLostError("movies")],
  ])("does not retry %s", (_what, error) => {
    expect(isTransientElasticsearchError(error)).toBe(false);
  });
});

describe("faults of the policy itself", () => {
  it("an open circuit and a timed-out attempt are the policy's, a plain error is not", () => {
    expect(isPolicyFault(new BrokenCircuitError())).toBe(true);
    expect(isPolicyFault(new TaskCancelledError())).toBe(true);
    expect(isPolicyFault(new Error("x"))).toBe(false);
  });
});

describe("how an unreachable database reads", () => {
  it("names host and port, and only the host when the name did not resolve (no port to show)", () => {
    expect(describeError(prismaError("P1001", { kind: "DatabaseNotReachable", host: "db", port: 5432 }))).toBe(
      "can't reach the database server at db:5432",
    );
    expect(describeError(prismaError("P1001", { kind: "DatabaseNotReachable", host: "no-such-host.invalid" }))).toBe(
      "can't reach the database server at no-such-host.invalid",
    );
  });
});
