"""Order administration: every order, status changes, refunds."""

from beanie import PydanticObjectId
from quart_schema import validate_querystring, validate_request, validate_response

from app.admin import bp
from app.core.openapi import links, problems
from app.core.pagination import Page
from app.core.security import admin_required, current_user
from app.orders import admin, service
from app.orders.schemas import (
    AdminOrderOut,
    AdminOrderSummaryOut,
    OrderQuery,
    RefundIn,
    StatusChangeIn,
)


@bp.get("/orders")
@links(
    200,
    AdminGetOrder=("get_admin_get_order", "order_id=$response.body#/items/0/id"),
    AdminChangeStatus=("post_admin_change_status", "order_id=$response.body#/items/0/id"),
    AdminRefundOrder=("post_admin_refund_order", "order_id=$response.body#/items/0/id"),
)
@admin_required
@validate_querystring(OrderQuery)
@validate_response(Page[AdminOrderSummaryOut])
async def list_orders(query_args: OrderQuery) -> Page[AdminOrderSummaryOut]:
    """All orders, newest first; filter by status, user, customer email, number, date range."""
    page = await service.list_orders(
        query=query_args,
        status=query_args.status,
        user_id=query_args.user_id,
        number=query_args.q,
        email=query_args.email,
        created_from=query_args.created_from,
        created_to=query_args.created_to,
    )
    return page.map(AdminOrderSummaryOut.of)


@bp.get("/orders/<order:order_id>")
@admin_required
@validate_response(AdminOrderOut)
async def get_order(order_id: PydanticObjectId) -> AdminOrderOut:
    """Any order, with who changed it."""
    return AdminOrderOut.of(await service.get_order(order_id=order_id))


@bp.post("/orders/<order:order_id>/status")
@problems(409)
@admin_required
@validate_request(StatusChangeIn)
@validate_response(AdminOrderOut)
async def change_status(order_id: PydanticObjectId, data: StatusChangeIn) -> AdminOrderOut:
    """Move an order to its next status (only allowed transitions)."""
    order = await admin.change_status(
        order_id=order_id,
        status=data.status,
        admin_id=current_user().id,
        tracking_number=data.tracking_number,
        note=data.note,
    )
    return AdminOrderOut.of(order)


@bp.post("/orders/<order:order_id>/refund")
@problems(409)
@admin_required
@validate_request(RefundIn)
@validate_response(AdminOrderOut)
async def refund_order(order_id: PydanticObjectId, data: RefundIn) -> AdminOrderOut:
    """Refund an order, in full or `amount` of it, through the payment provider."""
    order = await admin.refund(
        order_id=order_id, admin_id=current_user().id, amount=data.amount, reason=data.reason
    )
    return AdminOrderOut.of(order)
