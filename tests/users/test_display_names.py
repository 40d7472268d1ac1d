"""People's names are plain text, by the same rule as review text: a name is shown to others
(a review's `author_name`, order pages, greetings), so markup in it is refused with a 422
wherever a name is taken (registration, profile, checkout's shipping address, the CLI's
create-admin), never stored to be rendered later."""

from __future__ import annotations

import pytest

from app.auth.models import User
from app.cart.models import Cart
from app.orders.models import Order
from tests.support.orders import ADDRESS, stock_of

pytestmark = pytest.mark.usefixtures("app")

PASSWORD = "Zebra-Cactus-9"
MARKUP = [
    "<b>Bob</b>",
    "Bob <img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "Bob</p>",
    "Bob <!-- hidden -->",
    "<?xml?>Bob",
]
PLAIN = ["Ana <3", "Tom & Jerry", "5 < 6 Smith", "Zoë O'Brien-Smith", "李小龙"]


async def register(client, name: str, email: str = "new@example.com"):
    return await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )


def blames_the_name(problem: dict, *loc: str) -> bool:
    return problem["code"] == "validation_error" and [
        error["loc"] for error in problem["errors"]
    ] == [list(loc)]


@pytest.mark.parametrize("name", MARKUP)
async def test_registration_refuses_markup_in_the_name(client, name):
    response = await register(client, name)

    assert response.status_code == 422
    assert blames_the_name(await response.get_json(), "name")
    assert await User.find_one({"email": "new@example.com"}) is None


@pytest.mark.parametrize("name", PLAIN)
async def test_plain_names_with_angle_brackets_or_ampersands_are_fine(client, name):
    response = await register(client, name)

    assert response.status_code == 201, await response.get_data(as_text=True)
    assert (await User.find_one({"email": "new@example.com"})).name == name


async def test_names_are_normalised_as_review_text_is(client):
    assert (await register(client, "  Zoe\u0308  ")).status_code == 201
    assert (await User.find_one({"email": "new@example.com"})).name == "Zoë"


@pytest.mark.parametrize("name", MARKUP)
async def test_a_profile_update_refuses_markup_in_the_name(client, customer, name):
    user, headers = customer

    response = await client.patch("/api/v1/users/me", json={"name": name}, headers=headers)

    assert response.status_code == 422
    assert blames_the_name(await response.get_json(), "name")
    assert (await User.get(user.id)).name == user.name


@pytest.mark.parametrize("name", MARKUP[:3])
async def test_checkout_refuses_markup_in_the_shipping_name_and_changes_nothing(
    client, customer, stock, fill_cart, name
):
    user, headers = customer
    await fill_cart(user, (stock.shirt, 1))

    response = await client.post(
        "/api/v1/orders", json={"shipping_address": {**ADDRESS, "name": name}}, headers=headers
    )

    assert response.status_code == 422
    assert blames_the_name(await response.get_json(), "shipping_address", "name")
    assert await Order.find_all().count() == 0
    assert await stock_of(stock.shirt) == 10
    assert len((await Cart.find_one({"user_id": user.id})).lines) == 1


async def test_a_review_shows_the_plain_name_it_was_given(client, customer, stock):
    """The name a review's `author_name` shows went through the rule at registration."""
    registered = await register(client, "Ana <3", email="ana@example.com")
    assert registered.status_code == 201
    login = await client.post(
        "/api/v1/auth/login", json={"email": "ana@example.com", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {(await login.get_json())['access_token']}"}
    written = await client.post(
        f"/api/v1/products/{stock.shirt.id}/reviews",
        json={"rating": 5, "title": "Lovely"},
        headers=headers,
    )
    assert written.status_code == 201, await written.get_data(as_text=True)
    page = await (await client.get(f"/api/v1/products/{stock.shirt.id}/reviews")).get_json()
    assert [item["author_name"] for item in page["items"]] == ["Ana <3"]


@pytest.mark.parametrize("name", ["<b>Boss</b>", "Boss\nBcc: x@example.com"])
def test_the_create_admin_command_refuses_such_names(name):
    from app import create_app
    from tests.support.settings import empty_real_database, make_settings

    settings = make_settings()
    empty_real_database(settings)
    app = create_app(settings)
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "boss@example.com",
            "--password",
            "Sturdy-Admin-Pass-9",
            "--name",
            name,
        ]
    )

    assert result.exit_code == 2, result.output  # click's usage error
    assert "--name" in result.output
    assert "plain text" in result.output or "one line" in result.output
    assert "admin ready" not in result.output
