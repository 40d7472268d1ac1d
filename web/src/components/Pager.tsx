// Previous / next through a paginated list; the page number lives in the URL (`page`).
import { Link, useSearchParams } from "react-router";

export function Pager({ page, pages, label = "Pages" }: { page: number; pages: number; label?: string }) {
  const [params] = useSearchParams();
  if (pages <= 1) return null;
  const hrefFor = (n: number) => {
    const next = new URLSearchParams(params);
    if (n === 1) next.delete("page");
    else next.set("page", String(n));
    const search = next.toString();
    return search ? `?${search}` : "?";
  };
  return (
    <nav aria-label={label} className="pagination">
      {page > 1 ? (
        <Link to={hrefFor(page - 1)} rel="prev">
          Previous
        </Link>
      ) : null}
      <span className="pagination-where">
        Page {page} of {pages}
      </span>
      {page < pages ? (
        <Link to={hrefFor(page + 1)} rel="next">
          Next
        </Link>
      ) : null}
    </nav>
  );
}

/** `?page=` as a page number (1 when absent or not one). */
export function pageParam(params: URLSearchParams): number {
  const page = Number(params.get("page") ?? "1");
  return Number.isInteger(page) && page >= 1 ? page : 1;
}
