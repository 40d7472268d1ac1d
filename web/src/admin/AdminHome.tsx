import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import { Pager, pageParam } from "../components/Pager";
import { ErrorNotice, Loading, TableWrap } from "../components/Status";
import { useLoad, useTitle } from "../lib/useLoad";
import { SalesChart, TopProducts } from "./SalesDashboard";

/** Active products at or under their threshold, lowest stock first. */
function LowStockTable({ perPage, paged }: { perPage: number; paged: boolean }) {
  const [params] = useSearchParams();
  const page = paged ? pageParam(params) : 1;
  const [lowStock, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/inventory/low-stock", { params: { query: { page, per_page: perPage } } })),
    `low-stock:${page}`,
  );
  if (lowStock.state === "loading") return <Loading />;
  if (lowStock.state === "error") return <ErrorNotice error={lowStock.error} retry={retry} />;
  if (lowStock.data.items.length === 0) return <p>Nothing is running low.</p>;
  return (
    <>
      <p className="result-count">
        {lowStock.data.total === 1 ? "1 product" : `${lowStock.data.total} products`} at or under their threshold
      </p>
      <TableWrap label="Low-stock products">
        <table>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">Stock</th>
              <th scope="col">Threshold</th>
            </tr>
          </thead>
          <tbody>
            {lowStock.data.items.map((item) => (
              <tr key={item.id}>
                <th scope="row">
                  <Link to={`/admin/products/${item.id}`}>{item.name}</Link>
                </th>
                <td className={`stock-${item.stock_status}`}>{item.stock}</td>
                <td>{item.low_stock_threshold}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {paged ? (
        <Pager page={lowStock.data.page} pages={lowStock.data.pages} />
      ) : lowStock.data.total > lowStock.data.items.length ? (
        <p>
          <Link to="/admin/low-stock">All {lowStock.data.total} low-stock products</Link>
        </p>
      ) : null}
    </>
  );
}

export function AdminHome() {
  useTitle("Admin");
  return (
    <>
      <h1>Overview</h1>
      <ul className="admin-shortcuts">
        <li>
          <Link to="/admin/products/new">Add a product</Link>
        </li>
        <li>
          <Link to="/admin/orders?status=paid">Paid orders to prepare</Link>
        </li>
        <li>
          <Link to="/admin/orders?status=processing">Orders being prepared</Link>
        </li>
      </ul>
      <section aria-labelledby="sales-heading">
        <h2 id="sales-heading">Sales, last 30 days</h2>
        <SalesChart />
      </section>
      <section aria-labelledby="top-heading">
        <h2 id="top-heading">Top products, last 30 days</h2>
        <TopProducts />
      </section>
      <section aria-labelledby="low-stock-heading">
        <h2 id="low-stock-heading">Low stock</h2>
        <LowStockTable perPage={10} paged={false} />
      </section>
    </>
  );
}

export function LowStockPage() {
  useTitle("Low stock");
  return (
    <>
      <h1>Low stock</h1>
      <LowStockTable perPage={25} paged />
    </>
  );
}
