import { describe, expect, it } from "vitest";
import {
  DEFAULT_QUERY,
  catalogSearchParams,
  changeQuery,
  hasFilters,
  parseCatalogQuery,
  productsQuery,
} from "./catalogQuery";

const parse = (search: string) => parseCatalogQuery(new URLSearchParams(search));

describe("catalog URL state", () => {
  it("reads an empty URL as the defaults", () => {
    expect(parse("")).toEqual(DEFAULT_QUERY);
  });

  it("reads every filter", () => {
    expect(
      parse("q=wool+socks&category=tops&brand=Stride&color=red&size=M&min_price=1000" +
        "&max_price=5000&in_stock=true&sort=-price&page=3"),
    ).toEqual({
      q: "wool socks", category: "tops", brand: "Stride", color: "red", size: "M",
      minPrice: 1000, maxPrice: 5000, inStock: true, sort: "-price", page: 3, options: {},
    });
  });

  it("passes other option filters through, as the API takes them", () => {
    const query = parse("material=+Linen+&size=M&Fit=slim&per_page=5&strap=&x-y=1&a=1&b=2&c=3");
    expect(query.options).toEqual({ material: "Linen", a: "1", b: "2" });
    expect(query.size).toBe("M");
    expect(catalogSearchParams(query).toString()).toBe("size=M&a=1&b=2&material=Linen");
    expect(parse(catalogSearchParams(query).toString())).toEqual(query);
    expect(productsQuery(query)).toEqual({
      page: 1, per_page: 12, sort: "-created_at", size: "M",
      option_filters: { material: "Linen", a: "1", b: "2" },
    });
    expect(hasFilters(parse("material=linen"))).toBe(true);
    expect(changeQuery({ ...query, page: 3 }, { color: "red" }).options).toEqual(query.options);
  });

  it.each([
    ["page=0", { page: 1 }],
    ["page=-2", { page: 1 }],
    ["page=2.5", { page: 1 }],
    ["page=abc", { page: 1 }],
    ["page=99999999999", { page: 1 }],
    ["sort=random", { sort: "-created_at" }],
    ["min_price=-5", { minPrice: null }],
    ["max_price=1e3", { maxPrice: null }],
    ["in_stock=yes", { inStock: false }],
    ["q=%20%20", { q: "" }],
  ])("reads the malformed %s as its default", (search, expected) => {
    expect(parse(search)).toEqual({ ...DEFAULT_QUERY, ...expected });
  });

  it("writes only what differs from the defaults, in one order", () => {
    expect(catalogSearchParams(DEFAULT_QUERY).toString()).toBe("");
    const query = { ...DEFAULT_QUERY, page: 2, sort: "name" as const, brand: "Stride", q: "tee" };
    expect(catalogSearchParams(query).toString()).toBe("q=tee&brand=Stride&sort=name&page=2");
  });

  it("round-trips: parse(write(q)) is q", () => {
    const query = parse("q=a&category=b&brand=c&color=d&size=e&min_price=1&max_price=2" +
      "&in_stock=true&sort=price&page=7");
    expect(parse(catalogSearchParams(query).toString())).toEqual(query);
  });

  it("goes back to page 1 when a filter changes, not when the page does", () => {
    const onPage4 = { ...DEFAULT_QUERY, page: 4 };
    expect(changeQuery(onPage4, { color: "red" }).page).toBe(1);
    expect(changeQuery(onPage4, { sort: "price" }).page).toBe(1);
    expect(changeQuery(onPage4, { page: 5 }).page).toBe(5);
  });

  it("asks the API for exactly the filters in force", () => {
    expect(productsQuery(DEFAULT_QUERY)).toEqual({ page: 1, per_page: 12, sort: "-created_at" });
    expect(productsQuery(parse("color=red&min_price=0&in_stock=true"))).toEqual({
      page: 1, per_page: 12, sort: "-created_at", color: "red", min_price: 0, in_stock: true,
    });
  });
});
