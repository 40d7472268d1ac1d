"""Catalog administration: products (create, edit, archive) and the category tree."""

from beanie import PydanticObjectId
from quart_schema import validate_querystring, validate_request, validate_response

from app.admin import bp
from app.catalog import categories, listing, products
from app.catalog.schemas import (
    AdminProductItem,
    AdminProductQuery,
    CategoryIn,
    CategoryOut,
    CategoryUpdate,
    ProductIn,
    ProductOut,
    ProductUpdate,
    VariantIn,
    VariantUpdate,
)
from app.core.openapi import links, no_content, problems
from app.core.pagination import Page
from app.core.security import admin_required, current_user
from app.inventory import products as inventory


def _category_out(category) -> CategoryOut:
    return CategoryOut.model_validate({**category.model_dump(), "id": str(category.id)})


@bp.get("/products")
@admin_required
@validate_querystring(AdminProductQuery)
@validate_response(Page[AdminProductItem])
async def list_products(query_args: AdminProductQuery) -> Page[AdminProductItem]:
    """Products for the admin panel: the catalog's filters and sorts, active or archived,
    with stock numbers (added for the web app's product list)."""
    return await listing.admin_list_products(query=query_args)


@bp.get("/products/<product:product_id>")
@admin_required
@validate_response(ProductOut)
async def get_product(product_id: PydanticObjectId) -> ProductOut:
    """One product by id, archived or not (added for the web app's edit form)."""
    return await products.get_product_any_status(product_id=product_id)


@bp.post("/products")
@links(
    201,
    GetProduct=("get_get_product", "reference=$response.body#/id"),
    GetAdminProduct=("get_admin_get_product", "product_id=$response.body#/id"),
    UpdateProduct=("patch_admin_update_product", "product_id=$response.body#/id"),
    AdjustStock=("post_admin_adjust_stock", "product_id=$response.body#/id"),
    ArchiveProduct=("delete_admin_archive_product", "product_id=$response.body#/id"),
    ListReviews=("get_list_reviews", "product_id=$response.body#/id"),
    CreateReview=("post_create_review", "product_id=$response.body#/id"),
)
@admin_required
@validate_request(ProductIn)
@validate_response(ProductOut, 201)
@problems(409)
async def create_product(data: ProductIn) -> tuple[ProductOut, int]:
    """Create a product (slug generated from the name)."""
    actor = f"admin:{current_user().id}"
    return await inventory.create_product(data=data, actor=actor), 201


@bp.patch("/products/<product:product_id>")
@admin_required
@validate_request(ProductUpdate)
@validate_response(ProductOut)
@problems(409)
async def update_product(product_id: PydanticObjectId, data: ProductUpdate) -> ProductOut:
    """Update some fields of a product."""
    return await inventory.update_product(
        product_id=product_id, changes=data.changes(), actor=f"admin:{current_user().id}"
    )


@bp.post("/products/<product:product_id>/variants")
@admin_required
@validate_request(VariantIn)
@validate_response(ProductOut, 201)
@problems(409)
async def add_variant(product_id: PydanticObjectId, data: VariantIn) -> tuple[ProductOut, int]:
    """Add a variant (its opening stock recorded in the stock ledger); answers the product."""
    product = await inventory.add_variant(
        product_id=product_id, data=data.model_dump(), actor=f"admin:{current_user().id}"
    )
    return product, 201


@bp.patch("/products/<product:product_id>/variants/<variant_id>")
@admin_required
@validate_request(VariantUpdate)
@validate_response(ProductOut)
@problems(409)
async def update_variant(
    product_id: PydanticObjectId, variant_id: str, data: VariantUpdate
) -> ProductOut:
    """Change a variant's sku, option values, price, stock or low-stock threshold."""
    return await inventory.update_variant(
        product_id=product_id,
        variant_id=variant_id,
        changes=data.changes(),
        actor=f"admin:{current_user().id}",
    )


@bp.delete("/products/<product:product_id>/variants/<variant_id>")
@admin_required
@validate_response(ProductOut)
async def delete_variant(product_id: PydanticObjectId, variant_id: str) -> ProductOut:
    """Remove a variant (a product keeps at least one); answers the product."""
    return await inventory.delete_variant(
        product_id=product_id, variant_id=variant_id, actor=f"admin:{current_user().id}"
    )


@bp.delete("/products/<product:product_id>")
@no_content
@admin_required
async def archive_product(product_id: PydanticObjectId) -> tuple[str, int]:
    """Archive a product (it leaves the catalog)."""
    await products.archive_product(product_id=product_id)
    return "", 204


@bp.post("/categories")
@links(
    201,
    UpdateCategory=("patch_admin_update_category", "category_id=$response.body#/id"),
    DeleteCategory=("delete_admin_delete_category", "category_id=$response.body#/id"),
)
@admin_required
@validate_request(CategoryIn)
@validate_response(CategoryOut, 201)
@problems(409)
async def create_category(data: CategoryIn) -> tuple[CategoryOut, int]:
    """Create a category, at the root or under a parent."""
    category = await categories.create_category(**data.model_dump())
    return _category_out(category), 201


@bp.patch("/categories/<category:category_id>")
@admin_required
@validate_request(CategoryUpdate)
@validate_response(CategoryOut)
@problems(409)
async def update_category(category_id: PydanticObjectId, data: CategoryUpdate) -> CategoryOut:
    """Rename, re-slug or move a category (its sub-tree moves with it)."""
    category = await categories.update_category(category_id=category_id, changes=data.changes())
    return _category_out(category)


@bp.delete("/categories/<category:category_id>")
@no_content
@admin_required
@problems(409)
async def delete_category(category_id: PydanticObjectId) -> tuple[str, int]:
    """Delete a category without products or sub-categories."""
    await categories.delete_category(category_id=category_id)
    return "", 204
