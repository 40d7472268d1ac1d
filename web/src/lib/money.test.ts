import { describe, expect, it } from "vitest";
import { formatMoney, parseMoney } from "./money";

describe("money", () => {
  it("formats minor units", () => {
    expect(formatMoney(4500, "usd")).toMatch(/45\.00/);
    expect(formatMoney(500, "jpy")).toMatch(/500/);
  });

  it.each([
    ["12", 1200],
    ["12.5", 1250],
    ["12.50", 1250],
    ["0,99", 99],
    ["12.505", null],
    ["-1", null],
    ["abc", null],
    ["", null],
  ])("reads %j as %j cents", (text, cents) => {
    expect(parseMoney(text, "usd")).toBe(cents);
  });
});
