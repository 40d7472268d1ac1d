// Every order, newest first: filter by status and search by number or email, in the URL.
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import { Pager, pageParam } from "../components/Pager";
import { ErrorNotice, Loading, TableWrap } from "../components/Status";
import { formatMoney } from "../lib/money";
import { useLoad, useTitle } from "../lib/useLoad";
import { STATUS_LABELS } from "../store/OrderPage";

type Status = keyof typeof STATUS_LABELS;
const STATUSES = Object.keys(STATUS_LABELS) as Status[];

export function OrdersPage() {
  useTitle("Orders");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const wanted = params.get("status") ?? "";
  const status = (STATUSES as string[]).includes(wanted) ? (wanted as Status) : null;
  const page = pageParam(params);
  const [list, retry] = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/admin/orders", {
          params: { query: { page, per_page: 20, ...(q ? { q } : {}), ...(status ? { status } : {}) } },
        }),
      ),
    `${status}:${q}:${page}`,
  );

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    const text = String(form.get("q") ?? "").trim();
    if (text) next.set("q", text);
    const chosen = String(form.get("status") ?? "");
    if (chosen) next.set("status", chosen);
    setParams(next);
  }

  return (
    <>
      <h1>Orders</h1>
      <form role="search" className="toolbar" onSubmit={filter} aria-label="Find orders">
        <div className="field">
          <label htmlFor="order-q">Order number</label>
          <input id="order-q" type="search" name="q" defaultValue={q} key={q} maxLength={100} />
        </div>
        <div className="field">
          <label htmlFor="order-status">Status</label>
          <select id="order-status" name="status" defaultValue={status ?? ""} key={status ?? ""}>
            <option value="">Any status</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {STATUS_LABELS[value]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show</button>
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
