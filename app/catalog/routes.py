"""Public catalog reads: no authentication."""

from quart_schema import validate_querystring, validate_response

from app.catalog import bp, categories, listing, products
from app.catalog.cache import cached_read
from app.catalog.facets import facets_of
from app.catalog.schemas import CatalogQuery, CategoryTree, ProductOut, ProductPage
from app.core.openapi import links


@bp.get("/products")
@links(
    200,
    GetProduct=("get_get_product", "reference=$response.body#/items/0/slug"),
    ListReviews=("get_list_reviews", "product_id=$response.body#/items/0/id"),
    CreateReview=("post_create_review", "product_id=$response.body#/items/0/id"),
)
@cached_read("catalog")
@validate_querystring(CatalogQuery)
@validate_response(ProductPage)
async def list_products(query_args: CatalogQuery) -> ProductPage:
    """List, search and filter active products; `facets=true` adds the facet counts."""
    page = await listing.list_products(query=query_args)
    facets = await facets_of(query_args) if query_args.facets else None
    return ProductPage(**page.model_dump(), facets=facets)


@bp.get("/products/<reference>")
@cached_read("product")
@validate_response(ProductOut)
async def get_product(reference: str) -> ProductOut:
    """One active product, by id or slug."""
    return await products.get_product(reference=reference)


@bp.get("/categories")
@cached_read("catalog")
@validate_response(CategoryTree)
async def category_tree() -> CategoryTree:
    """The category tree."""
    return CategoryTree(await categories.category_tree())
