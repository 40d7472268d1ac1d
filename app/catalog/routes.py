"""Public catalog reads: no authentication."""

from quart_schema import validate_querystring, validate_response

from app.catalog import bp, categories, listing, products
from app.catalog.cache import cached_read
from app.catalog.schemas import CategoryTree, ProductListItem, ProductOut, ProductQuery
from app.core.openapi import links
from app.core.pagination import Page


@bp.get("/products")
@links(
    200,
    GetProduct=("get_get_product", "reference=$response.body#/items/0/slug"),
    ListReviews=("get_list_reviews", "product_id=$response.body#/items/0/id"),
    CreateReview=("post_create_review", "product_id=$response.body#/items/0/id"),
)
@cached_read("catalog")
@validate_querystring(ProductQuery)
@validate_response(Page[ProductListItem])
async def list_products(query_args: ProductQuery) -> Page[ProductListItem]:
    """List, search and filter active products."""
    return await listing.list_products(query=query_args)


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
