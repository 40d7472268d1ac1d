// The catalog: category tree, filters, search, sort and pagination, all in the URL.
import { type FormEvent, useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api";
import type { components } from "../api/schema";
import { ErrorNotice, Loading } from "../components/Status";
import {
  type CatalogQuery,
  DEFAULT_QUERY,
  SORTS,
  SORT_LABELS,
  type Sort,
  catalogSearchParams,
  changeQuery,
  hasFilters,
  parseCatalogQuery,
  productsQuery,
} from "../lib/catalogQuery";
import { formatMoney, minorDigits, parseMoney } from "../lib/money";
import { useLoad, useTitle } from "../lib/useLoad";
import { ProductCard } from "./ProductCard";

type CategoryNode = components["schemas"]["CategoryNode"];

function hrefFor(query: CatalogQuery): string {
  const search = catalogSearchParams(query).toString();
  return search ? `/?${search}` : "/";
}

function findCategory(nodes: CategoryNode[], slug: string): CategoryNode | null {
  for (const node of nodes) {
    if (node.slug === slug) return node;
    const found = findCategory(node.children, slug);
    if (found) return found;
  }
  return null;
}

function CategoryTree({ nodes, query }: { nodes: CategoryNode[]; query: CatalogQuery }) {
  return (
    <ul>
      {nodes.map((node) => (
        <li key={node.id}>
          <Link
            to={hrefFor(changeQuery(query, { category: node.slug }))}
            aria-current={query.category === node.slug ? "page" : undefined}
          >
            {node.name}
          </Link>
          {node.children.length ? <CategoryTree nodes={node.children} query={query} /> : null}
        </li>
      ))}
    </ul>
  );
}

interface FiltersProps {
  query: CatalogQuery;
  currency: string;
  onApply: (query: CatalogQuery) => void;
  facets: components["schemas"]["Facets"] | null;
}

/** A facet's values as links that set the filter, each with its number of products. */
function FacetValues({
  label,
  name,
  values,
  query,
}: {
  label: string;
  name: "color" | "size";
  values: components["schemas"]["FacetCount"][];
  query: CatalogQuery;
}) {
  if (!values.length) return null;
  return (
    <ul className="facet-values" aria-label={`${label} values`}>
      {values.map((entry) => (
        <li key={entry.value}>
          <Link
            to={hrefFor(changeQuery(query, { [name]: entry.value }))}
            aria-current={query[name].toLowerCase() === entry.value.toLowerCase() ? "true" : undefined}
          >
            {entry.value} <span className="facet-count">({entry.count})</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Filters({ query, currency, onApply, facets }: FiltersProps) {
  const major = (minor: number | null) =>
    minor === null ? "" : String(minor / 10 ** minorDigits(currency));
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    onApply(
      changeQuery(query, {
        brand: text("brand"),
        color: text("color"),
        size: text("size"),
        minPrice: parseMoney(text("min_price"), currency),
        maxPrice: parseMoney(text("max_price"), currency),
        inStock: form.get("in_stock") === "on",
      }),
    );
  }
  // `key`: the form starts again from the URL whenever the URL changes (back, links).
  return (
    <form className="filters" onSubmit={submit} key={catalogSearchParams(query).toString()}>
      <h2>Filter</h2>
      <div className="field">
        <label htmlFor="filter-brand">Brand</label>
        <input id="filter-brand" name="brand" defaultValue={query.brand} maxLength={100} />
      </div>
      <div className="field">
        <label htmlFor="filter-color">Colour</label>
        <input id="filter-color" name="color" defaultValue={query.color} maxLength={100} />
        <FacetValues label="Colour" name="color" values={facets?.color ?? []} query={query} />
      </div>
      <div className="field">
        <label htmlFor="filter-size">Size</label>
        <input id="filter-size" name="size" defaultValue={query.size} maxLength={100} />
        <FacetValues label="Size" name="size" values={facets?.size ?? []} query={query} />
      </div>
      <fieldset className="price-range">
        <legend>Price ({currency.toUpperCase()})</legend>
        <label htmlFor="filter-min">Lowest</label>
        <input id="filter-min" name="min_price" inputMode="decimal" defaultValue={major(query.minPrice)} />
        <label htmlFor="filter-max">Highest</label>
        <input id="filter-max" name="max_price" inputMode="decimal" defaultValue={major(query.maxPrice)} />
      </fieldset>
      <div className="field field-check">
        <input id="filter-stock" type="checkbox" name="in_stock" defaultChecked={query.inStock} />
        <label htmlFor="filter-stock">In stock only</label>
      </div>
      <button type="submit">Apply filters</button>
      {hasFilters(query) ? (
        <Link
          className="clear-filters"
          to={hrefFor({ ...DEFAULT_QUERY, q: query.q, sort: query.sort })}
        >
          Clear filters
        </Link>
      ) : null}
    </form>
  );
}

function Pagination({ query, pages }: { query: CatalogQuery; pages: number }) {
  if (pages <= 1) return null;
  const first = Math.max(1, Math.min(query.page - 2, pages - 4));
  const numbers = Array.from({ length: Math.min(5, pages) }, (_, i) => first + i);
  return (
    <nav aria-label="Pages" className="pagination">
      {query.page > 1 ? (
        <Link to={hrefFor(changeQuery(query, { page: query.page - 1 }))} rel="prev">
          Previous
        </Link>
      ) : null}
      {numbers.map((page) => (
        <Link
          key={page}
          to={hrefFor(changeQuery(query, { page }))}
          aria-current={page === query.page ? "page" : undefined}
          aria-label={`Page ${page}`}
        >
          {page}
        </Link>
      ))}
      {query.page < pages ? (
        <Link to={hrefFor(changeQuery(query, { page: query.page + 1 }))} rel="next">
          Next
        </Link>
      ) : null}
    </nav>
  );
}

export function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const query = useMemo(() => parseCatalogQuery(params), [params]);
  const key = catalogSearchParams(query).toString();
  const [categories] = useLoad(() => unwrap(api.GET("/api/v1/categories")), "categories");
  const [products, retry] = useLoad(
    // With the facets: the colour and size filters show how many products each value has.
    () => unwrap(api.GET("/api/v1/products", { params: { query: { ...productsQuery(query), facets: true } } })),
    key,
  );
  const tree = categories.state === "ready" ? categories.data : [];
  const category = query.category ? findCategory(tree, query.category) : null;
  const heading = query.q
    ? `Results for “${query.q}”`
    : (category?.name ?? (query.category ? query.category : "All products"));
  useTitle(heading);
  const apply = (next: CatalogQuery) => setParams(catalogSearchParams(next));
  // The store sells in one currency; the API names it on every product.
  const currency = (products.state === "ready" && products.data.items[0]?.currency) || "usd";

  return (
    <div className="catalog">
      <aside className="catalog-side">
        <nav aria-label="Categories" className="category-tree">
          <h2>Categories</h2>
          <Link to={hrefFor(changeQuery(query, { category: "" }))} aria-current={query.category ? undefined : "page"}>
            Everything
          </Link>
          {categories.state === "ready" ? <CategoryTree nodes={tree} query={query} /> : null}
          {categories.state === "error" ? <ErrorNotice error={categories.error} /> : null}
        </nav>
        <Filters
          query={query}
          currency={currency}
          onApply={apply}
          facets={products.state === "ready" ? (products.data.facets ?? null) : null}
        />
      </aside>
      <section className="catalog-main" aria-labelledby="catalog-heading">
        <div className="catalog-bar">
          <h1 id="catalog-heading">{heading}</h1>
          <div className="field sort">
            <label htmlFor="sort">Sort by</label>
            <select
              id="sort"
              value={query.sort}
              onChange={(event) => apply(changeQuery(query, { sort: event.target.value as Sort }))}
            >
              {SORTS.map((sort) => (
                <option key={sort} value={sort}>
                  {SORT_LABELS[sort]}
                </option>
              ))}
            </select>
          </div>
        </div>
        {products.state === "loading" ? <Loading label="Loading products…" /> : null}
        {products.state === "error" ? <ErrorNotice error={products.error} retry={retry} /> : null}
        {products.state === "ready" ? (
          <>
            <p className="result-count" role="status">
              {products.data.total === 0
                ? "No products match."
                : `${products.data.total} product${products.data.total === 1 ? "" : "s"}` +
                  (query.minPrice !== null || query.maxPrice !== null
                    ? ` between ${formatMoney(query.minPrice ?? 0, currency)} and ${
                        query.maxPrice === null ? "any price" : formatMoney(query.maxPrice, currency)
                      }`
                    : "")}
            </p>
            {products.data.items.length ? (
              <ul className="product-grid">
                {products.data.items.map((product) => (
                  <ProductCard key={product.id} product={product} />
                ))}
              </ul>
            ) : hasFilters(query) || query.q ? (
              <p>
                Try fewer filters or another search.{" "}
                <Link to="/">See everything</Link>
              </p>
            ) : null}
            <Pagination query={query} pages={products.data.pages} />
          </>
        ) : null}
      </section>
    </div>
  );
}
