import { Link } from "react-router";
import { api, unwrap } from "../api";
import { ErrorNotice, Loading } from "../components/Status";
import { useLoad, useTitle } from "../lib/useLoad";

export function AdminHome() {
  useTitle("Admin");
  const [lowStock, retry] = useLoad(
    () => unwrap(api.GET("/api/v1/admin/inventory/low-stock", { params: { query: { per_page: 20 } } })),
    "low-stock",
  );
  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="low-stock-heading">
        <h2 id="low-stock-heading">Low stock</h2>
        {lowStock.state === "loading" ? <Loading /> : null}
        {lowStock.state === "error" ? <ErrorNotice error={lowStock.error} retry={retry} /> : null}
        {lowStock.state === "ready" && lowStock.data.items.length === 0 ? <p>Nothing is running low.</p> : null}
        {lowStock.state === "ready" && lowStock.data.items.length ? (
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
                    <Link to={`/products/${item.slug}`}>{item.name}</Link>
                  </th>
                  <td>{item.stock}</td>
                  <td>{item.low_stock_threshold}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}
