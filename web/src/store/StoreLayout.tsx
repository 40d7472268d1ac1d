import { type FormEvent, useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate, useSearchParams } from "react-router";
import { useAuth } from "../auth/AuthContext";

function SearchForm() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const current = location.pathname === "/" ? (params.get("q") ?? "") : "";
  const [q, setQ] = useState(current);
  useEffect(() => setQ(current), [current]);
  function submit(event: FormEvent) {
    event.preventDefault();
    const search = q.trim() ? `?${new URLSearchParams({ q: q.trim() }).toString()}` : "";
    navigate(`/${search}`);
  }
  return (
    <form role="search" className="search" onSubmit={submit}>
      <label htmlFor="site-search" className="visually-hidden">
        Search products
      </label>
      <input
        id="site-search"
        type="search"
        name="q"
        placeholder="Search products"
        value={q}
        maxLength={200}
        onChange={(event) => setQ(event.target.value)}
      />
      <button type="submit">Search</button>
    </form>
  );
}

/** Log in/register, or the signed-in user's links; `adminLink`: the way to the admin panel for
 * admins (off inside the panel, whose own navigation already leads there). */
export function AccountLinks({ adminLink = true }: { adminLink?: boolean }) {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  if (user === undefined) return null;
  if (user === null) {
    return (
      <>
        <NavLink to="/login">Log in</NavLink>
        <NavLink to="/register">Register</NavLink>
      </>
    );
  }
  return (
    <>
      {adminLink && user.role === "admin" ? <NavLink to="/admin">Admin</NavLink> : null}
      <NavLink to="/account" title={user.email}>
        <span className="visually-hidden">Your account: </span>
        {user.name}
      </NavLink>
      <button
        type="button"
        className="link-button"
        onClick={() => void logout().then(() => navigate("/"))}
      >
        Log out
      </button>
    </>
  );
}

/**
 * After a client-side route change, focus moves to the page's main content (as a page load
 * would put a screen reader at the top), and the window scrolls to the top.
 */
export function useRouteFocus(): void {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [pathname]);
}

export function StoreLayout() {
  useRouteFocus();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          Shop
        </Link>
        <SearchForm />
        <nav aria-label="Account" className="site-nav">
          <NavLink to="/cart">Cart</NavLink>
          <AccountLinks />
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>
          Shop · the reference storefront of this API · <a href="/docs">API docs</a>
        </p>
      </footer>
    </>
  );
}
