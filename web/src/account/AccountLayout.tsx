// The account area: profile, saved addresses, orders. Signed-out visitors log in first.
import { Navigate, NavLink, Outlet, useLocation } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { Loading } from "../components/Status";

export function AccountLayout() {
  const { user } = useAuth();
  const location = useLocation();
  if (user === undefined) return <Loading />;
  if (user === null) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  return (
    <>
      <nav aria-label="Your account" className="account-nav">
        <NavLink to="/account" end>
          Profile
        </NavLink>
        <NavLink to="/account/addresses">Addresses</NavLink>
        <NavLink to="/account/orders">Orders</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
