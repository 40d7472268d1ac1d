// What signing in did with the guest cart: its lines joined the account's cart; the ones that
// could not be added in full (stock, the line or cart limits, a product gone) are listed.
import type { components } from "../api/schema";
import { Notice } from "./Status";

export type CartMerge = components["schemas"]["CartMergeOut"];

const REASONS: Record<components["schemas"]["CappedLineOut"]["reason"], string> = {
  stock: "not that many in stock",
  line_limit: "at most 99 per product",
  cart_full: "your cart is full",
  unavailable: "no longer available",
};

/** Only worth a word when some line was capped. */
export function mergeWasCapped(merge: CartMerge | null | undefined): merge is CartMerge {
  return Boolean(merge?.merged && merge.capped.length);
}

export function CartMergeNotice({ merge }: { merge: CartMerge }) {
  return (
    <Notice>
      <p>The cart you filled before signing in is now in your account's cart, except:</p>
      <ul className="capped-lines">
        {merge.capped.map((line) => (
          <li key={line.product_id}>
            {line.name}: {line.added} of {line.requested} added ({REASONS[line.reason]}); your cart holds{" "}
            {line.quantity}.
          </li>
        ))}
      </ul>
    </Notice>
  );
}
