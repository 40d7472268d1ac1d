import { describe, expect, it } from "vitest";
import { ApiProblem, type Problem, describeProblem, fieldErrors, formatWait, parseRetryAfter } from "./problem";

const base = { type: "/problems/x", title: "X", detail: "The detail.", request_id: "req-1" };

describe("problems in words", () => {
  it("maps errors[].loc to form fields, without pydantic's prefixes", () => {
    const problem: Problem = {
      ...base,
      status: 422,
      code: "validation_error",
      errors: [
        { loc: ["body", "password"], msg: "Value error, The password must be at least 10 characters long." },
        { loc: ["address", "city"], msg: "field required" },
        { loc: ["address", "city"], msg: "a second message for the same field" },
        { loc: ["items", 0, "quantity"], msg: "Input should be greater than 0" },
        { loc: [], msg: "Assertion failed, something about the whole body" },
      ],
    };
    expect(fieldErrors(problem)).toEqual({
      password: "The password must be at least 10 characters long.",
      "address.city": "Field required",
      "items.0.quantity": "Input should be greater than 0",
      _: "Something about the whole body",
    });
    expect(new ApiProblem(422, problem, null).message).toBe(
      "Some fields need attention: see the messages beside them.",
    );
  });

  it("says how long to wait after a 429", () => {
    expect(describeProblem(429, { ...base, status: 429, code: "rate_limited" }, 5)).toBe(
      "Too many attempts. Please wait 5 seconds and try again.",
    );
    expect(describeProblem(429, null, 90)).toBe("Too many attempts. Please wait 2 minutes and try again.");
    expect(describeProblem(429, null, null)).toBe("Too many attempts. Please wait a little and try again.");
  });

  it("reads Retry-After as seconds or as a date", () => {
    expect(parseRetryAfter("30")).toBe(30);
    const now = Date.parse("2026-12-02T06:00:00Z");
    expect(parseRetryAfter("Wed, 02 Dec 2026 06:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
    expect(formatWait(1)).toBe("a second");
    expect(formatWait(60)).toBe("a minute");
  });

  it("uses the problem's detail, and never shows a server error's internals", () => {
    expect(describeProblem(409, { ...base, status: 409, code: "insufficient_stock" }, null)).toBe("The detail.");
    expect(describeProblem(500, { ...base, status: 500, code: "internal_error" }, null)).toBe(
      "Something went wrong on our side. Please try again in a moment (reference req-1).",
    );
    expect(describeProblem(404, null, null)).toBe("Not found.");
  });
});
