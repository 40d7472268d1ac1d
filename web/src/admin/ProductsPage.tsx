// The admin's products: search and status (active or archived) in the URL, stock at a glance,
// archive and restore in place.
import { type FormEvent, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import { Pager, pageParam } from "../components/Pager";
import { ErrorNotice, Loading, Notice, TableWrap } from "../components/Status";
import { formatMoney } from "../lib/money";
import { useAction } from "../lib/useAction";
import { useLoad, useTitle } from "../lib/useLoad";

type Status = "active" | "archived";

export function ProductsPage() {
  useTitle("Products");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const status: Status = params.get("status") === "archived" ? "archived" : "active";
  const page = pageParam(params);
  const [version, setVersion] = useState(0);
  const [list, retry] = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/admin/products", {
          params: { query: { status, page, per_page: 20, ...(q ? { q } : {}) } },
        }),
      ),
    `${status}:${q}:${page}:${version}`,
  );
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    const text = String(form.get("q") ?? "").trim();
    if (text) next.set("q", text);
    if (form.get("status") === "archived") next.set("status", "archived");
    setParams(next);
  }

  async function toggle(id: string, name: string, to: Status) {
    setDone(null);
    const ok = await action.run(async () => {
      if (to === "archived") {
        await unwrap(api.DELETE("/api/v1/admin/products/{product_id}", { params: { path: { product_id: id } } }));
      } else {
        await unwrap(
          api.PATCH("/api/v1/admin/products/{product_id}", {
            params: { path: { product_id: id } },
            body: { status: "active" },
          }),
        );
      }
    });
    if (ok) {
      setDone(to === "archived" ? `${name} is archived: it left the catalog.` : `${name} is back in the catalog.`);
      setVersion((n) => n + 1);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Products</h1>
        <Link className="button" to="/admin/products/new">
          Add a product
        </Link>
      </div>
      <form role="search" className="toolbar" onSubmit={search} aria-label="Find products">
        <div className="field">
          <label htmlFor="product-q">Search</label>
          <input id="product-q" type="search" name="q" defaultValue={q} key={q} maxLength={200} />
        </div>
        <div className="field">
          <label htmlFor="product-status">Status</label>
          <select id="product-status" name="status" defaultValue={status} key={status}>
            <option value="active">Active (in the catalog)</option>
            <option value="archived">Archived</option>
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {done ? <Notice kind="success">{done}</Notice> : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {list.state === "loading" ? <Loading /> : null}
      {list.state === "error" ? <ErrorNotice error={list.error} retry={retry} /> : null}
      {list.state === "ready" ? (
        <>
          <p className="result-count" aria-live="polite">
            {list.data.total === 1 ? "1 product" : `${list.data.total} products`}
          </p>
          {list.data.items.length ? (
            <TableWrap label="Products">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">Price</th>
                    <th scope="col">Stock</th>
                    <th scope="col">Category</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((item) => (
                    <tr key={item.id}>
                      <th scope="row">
                        <Link to={`/admin/products/${item.id}`}>{item.name}</Link>
                      </th>
                      <td>{formatMoney(item.price, item.currency)}</td>
                      <td className={`stock-${item.stock_status}`}>
                        {item.stock}
                        {item.stock <= item.low_stock_threshold ? " (low)" : ""}
                      </td>
                      <td>{item.category?.name ?? "—"}</td>
                      <td>
                        <button
                          type="button"
                          className="button-secondary button-small"
                          disabled={action.busy}
                          onClick={() => void toggle(item.id, item.name, item.status === "active" ? "archived" : "active")}
                        >
                          {item.status === "active" ? "Archive" : "Restore"}
                          <span className="visually-hidden"> {item.name}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ) : (
            <p>No products match.</p>
          )}
          <Pager page={list.data.page} pages={list.data.pages} />
        </>
      ) : null}
    </>
  );
}
