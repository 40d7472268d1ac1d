// The admin orders list's filters live in the URL (shareable, back/forward work): status,
// order number, customer email and a date range of whole local days. This module reads them,
// writes them back in a stable form, and maps them to GET /api/v1/admin/orders's query.
import type { paths } from "../api/schema";

export type AdminOrdersQuery = NonNullable<paths["/api/v1/admin/orders"]["get"]["parameters"]["query"]>;
export type OrderStatus = NonNullable<AdminOrdersQuery["status"]>;

export interface OrderFilters {
  status: OrderStatus | null;
  q: string;
  email: string;
  /** Whole days, `YYYY-MM-DD` in the admin's time zone; "" for no bound. */
  from: string;
  to: string;
  page: number;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Local midnight of a `YYYY-MM-DD` day, or null when it is not a real day. */
function localDay(text: string, plusDays = 0): Date | null {
  const match = DAY.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(year, month - 1, day);
  if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) return null;
  return plusDays ? new Date(year, month - 1, day + plusDays) : date;
}

export function readOrderFilters(params: URLSearchParams, statuses: readonly OrderStatus[]): OrderFilters {
  const wanted = params.get("status") ?? "";
  const day = (name: string) => {
    const text = params.get(name) ?? "";
    return localDay(text) ? text : "";
  };
  const page = Number(params.get("page") ?? "1");
  return {
    status: (statuses as readonly string[]).includes(wanted) ? (wanted as OrderStatus) : null,
    q: (params.get("q") ?? "").trim(),
    email: (params.get("email") ?? "").trim(),
    from: day("from"),
    to: day("to"),
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

/** The URL's search part for `filters`: only what is set, in one order. */
export function orderFiltersToParams(filters: OrderFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.q) params.set("q", filters.q);
  if (filters.email) params.set("email", filters.email);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.page > 1) params.set("page", String(filters.page));
  return params;
}

/** The API's query: `to` includes its whole day (up to the last millisecond before the next). */
export function orderFiltersToQuery(filters: OrderFilters, perPage: number): AdminOrdersQuery {
  const query: AdminOrdersQuery = { page: filters.page, per_page: perPage };
  if (filters.status) query.status = filters.status;
  if (filters.q) query.q = filters.q;
  if (filters.email) query.email = filters.email;
  const from = localDay(filters.from);
  if (from) query.created_from = from.toISOString();
  const next = localDay(filters.to, 1);
  if (next) query.created_to = new Date(next.getTime() - 1).toISOString();
  return query;
}
