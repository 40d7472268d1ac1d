// The admin panel's frame: admins only. Anonymous visitors are sent to log in (and back);
// a signed-in customer sees a 403 page.
import { Link, NavLink, Navigate, Outlet, useLocation } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { Loading } from "../components/Status";
import { useTitle } from "../lib/useLoad";
import { AccountLinks, useRouteFocus } from "../store/StoreLayout";

function Forbidden() {
  useTitle("Not allowed");
  return (
    <main id="main" className="narrow">
      <h1>403: admins only</h1>
      <p>
        The admin panel is for the shop's administrators, and this account is not one.{" "}
        <Link to="/">Back to the shop</Link>
      </p>
    </main>
  );
}

export function AdminLayout() {
  const { user } = useAuth();
  const location = useLocation();
  useRouteFocus();
  if (user === undefined) return <Loading />;
  if (user === null) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (user.role !== "admin") return <Forbidden />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header admin-header">
        <Link to="/admin" className="brand">
          Shop admin
        </Link>
        <nav aria-label="Admin" className="site-nav">
          <NavLink to="/admin" end>
            Overview
          </NavLink>
          <NavLink to="/admin/products">Products</NavLink>
          <NavLink to="/admin/low-stock">Low stock</NavLink>
          <NavLink to="/admin/orders">Orders</NavLink>
          <NavLink to="/admin/categories">Categories</NavLink>
          <NavLink to="/admin/shipping">Shipping</NavLink>
          <NavLink to="/admin/tax-rates">Tax</NavLink>
          <NavLink to="/admin/discounts">Discounts</NavLink>
          <NavLink to="/admin/users">Users</NavLink>
          <NavLink to="/admin/emails">Emails</NavLink>
          <NavLink to="/admin/webhooks">Webhooks</NavLink>
          <NavLink to="/">Storefront</NavLink>
          <AccountLinks adminLink={false} />
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
