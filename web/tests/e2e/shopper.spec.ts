// A shopper's first visit: browse, filter (all in the URL), open a product, fill the cart as a
// guest, register (the cart goes along), get the confirmation mail (its link opens this app),
// log in and find the cart.
import { expect, test } from "@playwright/test";
import { checkPage, mailTo, watchPage } from "./helpers";

const PASSWORD = "Sturdy-Shopper-42";

test("a shopper filters the catalog, fills the cart as a guest, registers and logs in to it", async ({ page, baseURL }, testInfo) => {
  // The longest journey (guest cart, registration, mail, checkout, payment): 60 s was too
  // tight on a loaded two-core machine.
  test.setTimeout(120_000);
  const problems = watchPage(page);
  const email = `shopper-${testInfo.project.name}-${Date.now()}@example.com`;

  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "All products" })).toBeVisible();
  await expect(page.getByText("52 products")).toBeVisible();
  await checkPage(page, testInfo, "01-catalog");

  // Category, filters and sort: each lands in the URL.
  const categories = page.getByRole("navigation", { name: "Categories" });
  await categories.getByRole("link", { name: "Footwear", exact: true }).click();
  await expect(page).toHaveURL(/[?&]category=footwear/);
  await expect(page.getByRole("heading", { level: 1, name: "Footwear" })).toBeVisible();
  await page.getByLabel("Brand").fill("Stride");
  await page.getByLabel("In stock only").check();
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/brand=Stride/);
  await expect(page).toHaveURL(/in_stock=true/);
  await page.getByLabel("Sort by").selectOption("-price");
  await expect(page).toHaveURL(/sort=-price/);
  const names = page.locator(".product-card-name");
  await expect(names).toHaveText(["Road Racer Shoe", "Trail Running Shoe"]);
  await expect(page.getByText("2 products")).toBeVisible();
  await checkPage(page, testInfo, "02-catalog-filtered");

  // The URL alone brings the same state back.
  await page.reload();
  await expect(names).toHaveText(["Road Racer Shoe", "Trail Running Shoe"]);
  await expect(page.getByLabel("Brand")).toHaveValue("Stride");
  await expect(page.getByLabel("Sort by")).toHaveValue("-price");

  // Search from the header.
  await page.getByRole("searchbox", { name: "Search products" }).fill("headphones");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/\/\?q=headphones$/);
  await expect(page.getByText("2 products")).toBeVisible();
  await page.goBack();
  await expect(names).toHaveText(["Road Racer Shoe", "Trail Running Shoe"]);

  // A price ceiling, typed in dollars, travels in cents.
  await page.getByLabel("Highest").fill("130");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/max_price=13000/);
  await expect(names).toHaveText(["Trail Running Shoe"]);
  await expect(page.getByText("1 product between $0.00 and $130.00")).toBeVisible();

  // The product page, its picture served by the app itself.
  await page.getByRole("link", { name: "Trail Running Shoe" }).click();
  await expect(page).toHaveURL(/\/products\/trail-running-shoe$/);
  await expect(page.getByRole("heading", { level: 1, name: "Trail Running Shoe" })).toBeVisible();
  const picture = page.locator(".gallery > img");
  await expect(picture).toHaveAttribute("src", `${baseURL}/media/demo/trail-running-shoe/1.svg`);
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await checkPage(page, testInfo, "03-product");

  // A guest fills the cart; creating an account takes it along (the cart token travels with
  // the registration), and logging in finds it there.
  await page.getByLabel("Quantity").fill("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added 2 to your cart.")).toBeVisible();
  await page.goto("/login?next=%2Fproducts%2Ftrail-running-shoe");
  await checkPage(page, testInfo, "04-login");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill("Sam Shopper");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  // The API's message, beside its field.
  const passwordError = page.locator(".field-invalid").filter({ has: page.getByLabel("Password") });
  await expect(passwordError.locator(".field-error")).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
  await checkPage(page, testInfo, "05-register-invalid");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Check your inbox" })).toBeVisible();
  await expect(page.getByText("The cart you filled is waiting in your new account.")).toBeVisible();
  await checkPage(page, testInfo, "06-registered");

  // The confirmation mail links to this app (FRONTEND_URL defaults to its own address).
  const mail = await mailTo(email, /confirm|verify/i);
  expect(mail.text).toContain(`${baseURL}/verify-email?token=`);

  await page.getByRole("status").getByRole("link", { name: "log in" }).click();
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/products\/trail-running-shoe$/);
  await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();

  await page.getByRole("link", { name: "Cart", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your cart" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "Trail Running Shoe" })).toBeVisible();
  await expect(page.getByText("Subtotal (2 items): $258.00")).toBeVisible();
  await checkPage(page, testInfo, "07-cart");

  // Checkout: the API's objection beside its field, then the order, then payment with the
  // dev gateway's Stripe test cards (a declined one first).
  await page.getByRole("link", { name: "Check out" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Checkout" })).toBeVisible();
  await page.getByLabel("Address", { exact: true }).fill("1 Main Street");
  await page.getByLabel("City").fill("Springfield");
  await page.getByLabel("Country").fill("US");
  await page.getByRole("button", { name: "Place the order" }).click();
  await expect(page.getByLabel("Postal code")).toHaveAttribute("aria-invalid", "true");
  await checkPage(page, testInfo, "08-checkout-invalid");
  await page.getByLabel("Postal code").fill("12345");
  await page.getByRole("button", { name: "Place the order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f]{24}$/);
  await expect(page.getByText("Status: Awaiting payment")).toBeVisible();
  await page.getByLabel("Card that is declined (test)").check();
  await page.getByRole("button", { name: "Pay $258.00" }).click();
  await expect(page.getByRole("alert")).toContainText(/declined/i);
  await checkPage(page, testInfo, "09-payment-declined");
  await page.getByLabel("Visa ending 4242 (test card that succeeds)").check();
  await page.getByRole("button", { name: "Pay $258.00" }).click();
  await expect(page.getByText("Thank you! Your payment is received")).toBeVisible();
  await expect(page.getByText("Status: Paid")).toBeVisible();
  await checkPage(page, testInfo, "10-order-paid");

  // Sizes and colours (issue 18): the catalog's filters count the products of each value, and
  // the product page picks a variant (sold-out values shown, not choosable): a size M in blue.
  await page.goto("/?size=M");
  const colours = page.getByRole("list", { name: "Colour values" });
  await expect(colours.getByRole("link", { name: /^blue \(\d+\)$/ })).toBeVisible();
  await colours.getByRole("link", { name: /^blue \(\d+\)$/ }).click();
  await expect(page).toHaveURL(/color=blue/);
  await expect(names.filter({ hasText: "Classic Oxford Shirt" })).toBeVisible();
  await checkPage(page, testInfo, "12-catalog-facets");
  await page.getByRole("link", { name: "Classic Oxford Shirt" }).click();
  const sizes = page.getByRole("group", { name: /^Size/ });
  const colors = page.getByRole("group", { name: /^Color/ });
  await sizes.getByRole("button", { name: "S", exact: true }).click();
  await expect(colors.getByRole("button", { name: "white (sold out)" })).toBeDisabled();
  await sizes.getByRole("button", { name: "M", exact: true }).click();
  await colors.getByRole("button", { name: "blue", exact: true }).click();
  await expect(colors.getByRole("button", { name: "blue", exact: true })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".price-large")).toHaveText("$49.00");
  await expect(page.locator(".product-info .stock")).toHaveText("In stock");
  await checkPage(page, testInfo, "13-product-variants");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added 1 to your cart.")).toBeVisible();
  await page.getByRole("link", { name: "View your cart" }).click();
  await expect(page.getByRole("rowheader", { name: "Classic Oxford Shirt (color blue, size M)" })).toBeVisible();
  await page.getByRole("link", { name: "Check out" }).click();
  await page.getByLabel("Address", { exact: true }).fill("1 Main Street");
  await page.getByLabel("City").fill("Springfield");
  await page.getByLabel("Postal code").fill("12345");
  await page.getByLabel("Country").fill("US");
  await page.getByRole("button", { name: "Place the order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f]{24}$/);
  await expect(page.getByRole("rowheader", { name: "Classic Oxford Shirt (color blue, size M)" })).toBeVisible();
  await checkPage(page, testInfo, "14-order-variant");

  // The confirmation link from the mail opens the landing page, which confirms the address.
  const link = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(mail.text)?.[0];
  expect(link).toBeDefined();
  await page.goto(link!);
  await expect(page.getByText("Your email address is confirmed.")).toBeVisible();
  await checkPage(page, testInfo, "11-email-confirmed");
  // A link is spent once: opened again, it says so and offers a new one.
  await page.reload();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Send a new confirmation link" })).toBeVisible();

  expect(problems).toEqual([]);
});
