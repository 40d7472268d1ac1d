// Every order, newest first: filter by status, order number, customer email and a range of
// days; the filters live in the URL (orderFilters.ts).
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import { Pager } from "../components/Pager";
import { ErrorNotice, Loading, TableWrap } from "../components/Status";
import { formatMoney } from "../lib/money";
import { useLoad, useTitle } from "../lib/useLoad";
import { STATUS_LABELS } from "../store/OrderPage";
import { type OrderStatus, orderFiltersToParams, orderFiltersToQuery, readOrderFilters } from "./orderFilters";

const STATUSES = Object.keys(STATUS_LABELS) as OrderStatus[];

export function OrdersPage() {
  useTitle("Orders");
  const [params, setParams] = useSearchParams();
  const filters = readOrderFilters(params, STATUSES);
  const search = orderFiltersToParams(filters).toString();
  const [list, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/orders", { params: { query: orderFiltersToQuery(filters, 20) } })),
    search,
  );

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const status = text("status");
    setParams(
      orderFiltersToParams({
        status: (STATUSES as string[]).includes(status) ? (status as OrderStatus) : null,
        q: text("q"),
        email: text("email"),
        from: text("from"),
        to: text("to"),
        page: 1,
      }),
    );
  }

  return (
    <>
      <h1>Orders</h1>
      {/* `key`: the fields show the URL's filters again after back/forward. */}
      <form role="search" className="toolbar" onSubmit={filter} aria-label="Find orders" key={search}>
        <div className="field">
          <label htmlFor="order-q">Order number</label>
          <input id="order-q" type="search" name="q" defaultValue={filters.q} maxLength={32} />
        </div>
        <div className="field">
          <label htmlFor="order-email">Customer email</label>
          <input id="order-email" type="email" name="email" defaultValue={filters.email} maxLength={320} autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="order-status">Status</label>
          <select id="order-status" name="status" defaultValue={filters.status ?? ""}>
            <option value="">Any status</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {STATUS_LABELS[value]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="order-from">Placed from</label>
          <input id="order-from" type="date" name="from" defaultValue={filters.from} />
        </div>
        <div className="field">
          <label htmlFor="order-to">Placed until</label>
          <input id="order-to" type="date" name="to" defaultValue={filters.to} />
        </div>
        <button type="submit">Show</button>
        {search ? (
          <Link to="/admin/orders">
            Clear the filters
          </Link>
        ) : null}
      </form>
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" ? (
        <>
          <p className="result-count" aria-live="polite">
            {list.data.total === 1 ? "1 order" : `${list.data.total} orders`}
          </p>
          {list.data.items.length ? (
            <TableWrap label="Orders">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Placed</th>
                    <th scope="col">Customer</th>
                    <th scope="col">Status</th>
                    <th scope="col">Total</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((order) => (
                    <tr key={order.id}>
                      <th scope="row">
                        <Link to={`/admin/orders/${order.id}`}>{order.number}</Link>
                      </th>
                      <td>
                        <time dateTime={order.created_at}>{new Date(order.created_at).toLocaleString()}</time>
                      </td>
                      <td>{order.email}</td>
                      <td>{STATUS_LABELS[order.status]}</td>
                      <td>{formatMoney(order.total, order.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ) : (
            <p>No orders match.</p>
          )}
          <Pager page={list.data.page} pages={list.data.pages} />
        </>
      ) : null}
    </>
  );
}
