import { describe, expect, it } from "vitest";
import { type OrderStatus, orderFiltersToParams, orderFiltersToQuery, readOrderFilters } from "./orderFilters";

const STATUSES: OrderStatus[] = ["pending_payment", "paid", "shipped"];
const read = (search: string) => readOrderFilters(new URLSearchParams(search), STATUSES);

describe("the admin orders filters in the URL", () => {
  it("reads every filter and writes it back in one stable form", () => {
    const filters = read("to=2026-03-31&email=%20ann%40example.com&status=paid&from=2026-03-01&q=A1B&page=2");
    expect(filters).toEqual({
      status: "paid",
      q: "A1B",
      email: "ann@example.com",
      from: "2026-03-01",
      to: "2026-03-31",
      page: 2,
    });
    expect(orderFiltersToParams(filters).toString()).toBe(
      "status=paid&q=A1B&email=ann%40example.com&from=2026-03-01&to=2026-03-31&page=2",
    );
    expect(read(orderFiltersToParams(filters).toString())).toEqual(filters);
  });

  it("drops what is not a filter: unknown status, impossible days, bad pages", () => {
    const filters = read("status=lost&from=2026-02-30&to=31/03/2026&page=-1");
    expect(filters).toEqual({ status: null, q: "", email: "", from: "", to: "", page: 1 });
    expect(orderFiltersToParams(filters).toString()).toBe("");
    expect(orderFiltersToQuery(filters, 20)).toEqual({ page: 1, per_page: 20 });
  });

  it("asks the API for whole local days, `to` included", () => {
    const query = orderFiltersToQuery(read("from=2026-03-01&to=2026-03-31&email=ann@example.com&status=paid"), 20);
    expect(query).toMatchObject({ page: 1, per_page: 20, status: "paid", email: "ann@example.com" });
    const from = new Date(query.created_from ?? "");
    expect([from.getFullYear(), from.getMonth(), from.getDate(), from.getHours(), from.getMinutes()]).toEqual([
      2026, 2, 1, 0, 0,
    ]);
    const to = new Date(query.created_to ?? "");
    expect([to.getMonth(), to.getDate(), to.getHours(), to.getMinutes(), to.getSeconds(), to.getMilliseconds()]).toEqual([
      2, 31, 23, 59, 59, 999,
    ]);
    // One bound alone is fine.
    expect(orderFiltersToQuery(read("to=2026-03-31"), 20).created_from).toBeUndefined();
    expect(orderFiltersToQuery(read("from=2026-03-31"), 20).created_to).toBeUndefined();
  });
});
