import { Link } from "react-router";
import { useTitle } from "../lib/useLoad";

export function NotFoundPage() {
  useTitle("Page not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Go to the catalog</Link>
      </p>
    </>
  );
}
