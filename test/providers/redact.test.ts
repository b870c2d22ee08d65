import { describe, expect, it } from "@jest/globals";
import { connectionTrouble, endpointSecrets, shownSafe } from "../../src/providers/types.js";

describe("messages shown on a PR", () => {
  it("lose every part of a URL-valued variable, in raw, decoded and encoded forms", () => {
    const secrets = endpointSecrets(["postgres://pay%40roll:p%2Fss@[fd00::5]/payroll?sslmode=require"]);
    const message = 'user "pay@roll" / pay%40roll at fd00::5 [fd00::5]:5432 db payroll pass p/ss p%2Fss sslmode require';
    expect(shownSafe(message, secrets)).toBe(
      'user "[redacted]" / [redacted] at [redacted] [redacted]:[redacted] db [redacted] pass [redacted] [redacted] sslmode [redacted]',
    );
  });

  it("remove a short value only as a whole word, and any IPv4 address", () => {
    const secrets = endpointSecrets(["postgres://jit@db:5432/x"]);
    expect(shownSafe('role "jit" and role "jit_admin" on 10.0.0.5', secrets)).toBe('role "[redacted]" and role "jit_admin" on [redacted]');
  });

  it("name a connection failure by its code, also inside fetch's cause and an AggregateError", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" });
    expect(connectionTrouble(refused)).toBe("connection refused");
    expect(connectionTrouble(new TypeError("fetch failed", { cause: refused }))).toBe("connection refused");
    expect(connectionTrouble(Object.assign(new AggregateError([refused], ""), { code: undefined }))).toBe("connection refused");
    expect(connectionTrouble(new Error('role "x" does not exist'))).toBeUndefined();
  });
});
