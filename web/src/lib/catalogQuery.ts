// The catalog's state lives in the URL (shareable, back/forward work): this module reads it,
// writes it back in a stable form, and maps it to GET /api/v1/products's query.
import type { paths } from "../api/schema";

export type ProductsQuery = NonNullable<paths["/api/v1/products"]["get"]["parameters"]["query"]>;

export const SORTS = ["-created_at", "price", "-price", "name", "-rating"] as const;
export type Sort = (typeof SORTS)[number];
export const SORT_LABELS: Record<Sort, string> = {
  "-created_at": "Newest",
  price: "Price: low to high",
  "-price": "Price: high to low",
  name: "Name",
  "-rating": "Best rated",
};
export const PER_PAGE = 12;
const MAX_PAGE = 1_000_000;
const MAX_PRICE = 10_000_000_000;

export interface CatalogQuery {
  q: string;
  category: string;
  brand: string;
  color: string;
  size: string;
  /** Minor units (cents), as the API takes them. */
  minPrice: number | null;
  maxPrice: number | null;
  inStock: boolean;
  sort: Sort;
  page: number;
  /** Option filters other than color and size (`?material=linen`), passed through as the
   * URL has them: no control of their own, but "Clear filters" clears them. */
  options: Record<string, string>;
}

export const DEFAULT_QUERY: CatalogQuery = {
  q: "",
  category: "",
  brand: "",
  color: "",
  size: "",
  minPrice: null,
  maxPrice: null,
  inStock: false,
  sort: "-created_at",
  page: 1,
  options: {},
};

const TEXT_KEYS = ["q", "category", "brand", "color", "size"] as const;
// Every parameter of GET /api/v1/products: any other one named like an option (the API's
// rule) is an option filter, at most MAX_OPTION_FILTERS of them.
const API_KEYS = new Set<string>([
  ...TEXT_KEYS, "min_price", "max_price", "in_stock", "sort", "page", "per_page", "facets",
]);
const OPTION_NAME = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_OPTION_FILTERS = 3;

function whole(value: string | null, max: number, min: number): number | null {
  if (value === null || !/^\d{1,11}$/.test(value.trim())) return null;
  const number = Number(value.trim());
  return number >= min && number <= max ? number : null;
}

function isSort(value: string | null): value is Sort {
  return (SORTS as readonly (string | null)[]).includes(value);
}

/** The URL's search params as a query; anything malformed is read as its default. */
export function parseCatalogQuery(params: URLSearchParams): CatalogQuery {
  const query: CatalogQuery = { ...DEFAULT_QUERY };
  for (const key of TEXT_KEYS) query[key] = (params.get(key) ?? "").trim().slice(0, 200);
  query.minPrice = whole(params.get("min_price"), MAX_PRICE, 0);
  query.maxPrice = whole(params.get("max_price"), MAX_PRICE, 0);
  query.inStock = params.get("in_stock") === "true";
  const sort = params.get("sort");
  query.sort = isSort(sort) ? sort : DEFAULT_QUERY.sort;
  query.page = whole(params.get("page"), MAX_PAGE, 1) ?? 1;
  const options: Record<string, string> = {};
  for (const [name, raw] of params) {
    const value = raw.trim().slice(0, 100);
    if (API_KEYS.has(name) || !OPTION_NAME.test(name) || !value || name in options) continue;
    if (Object.keys(options).length === MAX_OPTION_FILTERS) break;
    options[name] = value;
  }
  query.options = options;
  return query;
}

/** Search params for a query: defaults left out, keys in one order (one URL per state). */
export function catalogSearchParams(query: CatalogQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of TEXT_KEYS) if (query[key]) params.set(key, query[key]);
  for (const name of Object.keys(query.options).sort()) params.set(name, query.options[name]!);
  if (query.minPrice !== null) params.set("min_price", String(query.minPrice));
  if (query.maxPrice !== null) params.set("max_price", String(query.maxPrice));
  if (query.inStock) params.set("in_stock", "true");
  if (query.sort !== DEFAULT_QUERY.sort) params.set("sort", query.sort);
  if (query.page !== 1) params.set("page", String(query.page));
  return params;
}

/** A changed query: any change but the page's own starts again at page 1. */
export function changeQuery(query: CatalogQuery, patch: Partial<CatalogQuery>): CatalogQuery {
  const next = { ...query, ...patch };
  const onlyPage = Object.keys(patch).every((key) => key === "page");
  if (!onlyPage) next.page = patch.page ?? 1;
  return next;
}

/** GET /api/v1/products's query for this state. */
export function productsQuery(query: CatalogQuery): ProductsQuery {
  const api: ProductsQuery = { page: query.page, per_page: PER_PAGE, sort: query.sort };
  for (const key of TEXT_KEYS) if (query[key]) api[key] = query[key];
  if (query.minPrice !== null) api.min_price = query.minPrice;
  if (query.maxPrice !== null) api.max_price = query.maxPrice;
  if (query.inStock) api.in_stock = true;
  if (Object.keys(query.options).length) api.option_filters = { ...query.options };
  return api;
}

/** Whether any filter narrows the list (search and sort aside). */
export function hasFilters(query: CatalogQuery): boolean {
  return Boolean(
    query.category || query.brand || query.color || query.size || query.inStock ||
      query.minPrice !== null || query.maxPrice !== null || Object.keys(query.options).length,
  );
}
