// The shopper's orders, newest first; each opens its page (history, tracking, cancel).
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import { Pager, pageParam } from "../components/Pager";
import { ErrorNotice, Loading, TableWrap } from "../components/Status";
import { formatMoney } from "../lib/money";
import { useLoad, useTitle } from "../lib/useLoad";
import { STATUS_LABELS } from "../store/OrderPage";

export function OrdersListPage() {
  useTitle("Your orders");
  const [params] = useSearchParams();
  const page = pageParam(params);
  const [list, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/orders", { params: { query: { page, per_page: 20 } } })),
    String(page),
  );
  return (
    <>
      <h1>Your orders</h1>
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" && list.data.items.length === 0 ? (
        <p>
          No orders yet. <Link to="/">Browse the catalog</Link>
        </p>
      ) : null}
      {list.state === "ready" && list.data.items.length ? (
        <>
          <TableWrap label="Your orders">
            <table>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Items</th>
                  <th scope="col">Status</th>
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((order) => (
                  <tr key={order.id}>
                    <th scope="row">
                      <Link to={`/orders/${order.id}`}>{order.number}</Link>
                    </th>
                    <td>
                      <time dateTime={order.created_at}>{new Date(order.created_at).toLocaleDateString()}</time>
                    </td>
                    <td>{order.item_count}</td>
                    <td>{STATUS_LABELS[order.status]}</td>
                    <td>{formatMoney(order.total, order.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <Pager page={list.data.page} pages={list.data.pages} />
        </>
      ) : null}
    </>
  );
}
