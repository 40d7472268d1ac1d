// A guest pays for shipping, tax and a discount: the code on the cart page (a wrong one is
// refused beside the field), the shipping method chosen at checkout for the address, the tax
// added, and the order charging exactly the checkout's total. The store's rules are set up
// through the admin API for a destination no other journey uses (the Faroe Islands on the
// desktop, Greenland on the phone) and removed again at the end.
import { type APIRequestContext, expect, test } from "@playwright/test";
import { checkPage, watchPage } from "./helpers";

async function adminHeaders(request: APIRequestContext): Promise<Record<string, string>> {
  const login = await request.post("/api/v1/auth/login", {
    data: { email: process.env.SHOP_ADMIN_EMAIL, password: process.env.SHOP_ADMIN_PASSWORD },
  });
  expect(login.status()).toBe(200);
  return { Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };
}

test("a guest applies a code, picks a shipping method and pays shipping and tax", async ({ page, request }, testInfo) => {
  test.setTimeout(90_000);
  const problems = watchPage(page);
  const stamp = `${testInfo.project.name}-${Date.now()}`;
  const country = testInfo.project.name === "phone" ? "GL" : "FO";
  const code = `SAVE10-${stamp}`.slice(0, 40);
  const headers = await adminHeaders(request);
  const made: string[] = [];
  const create = async (path: string, data: object): Promise<string> => {
    const response = await request.post(`/api/v1/admin/${path}`, { headers, data });
    expect(response.status(), await response.text()).toBe(201);
    const id = ((await response.json()) as { id: string }).id;
    made.push(`${path}/${id}`);
    return id;
  };
  await create("shipping-methods", { name: `Post ${stamp}`, price: 700, countries: [country], min_days: 4, max_days: 8 });
  await create("shipping-methods", { name: `Express ${stamp}`, price: 1500, countries: [country], min_days: 1, max_days: 2 });
  await create("tax-rates", { country, rate_bp: 2400, name: `VAT ${stamp}`, applies_to_shipping: true });
  await create("discounts", { code, type: "percent", value: 10 });
  try {
    await page.goto("/products/trail-running-shoe");
    await page.getByRole("button", { name: "Add to cart" }).click();
    await expect(page.getByText("Added 1 to your cart.")).toBeVisible();
    await page.getByRole("link", { name: "View your cart" }).click();
    const form = page.getByRole("form", { name: "Discount code" });
    await form.getByLabel("Discount code").fill(`NOPE-${stamp}`);
    await form.getByRole("button", { name: "Apply" }).click();
    await expect(form.getByLabel("Discount code")).toHaveAttribute("aria-invalid", "true");
    await expect(form.getByText("No such discount code.")).toBeVisible();
    await form.getByLabel("Discount code").fill(code.toLowerCase());
    await form.getByRole("button", { name: "Apply" }).click();
    await expect(page.getByText(`Code ${code} is applied.`)).toBeVisible();
    const cartTotals = page.getByRole("definition").filter({ hasText: "$12.90" });
    await expect(cartTotals).toBeVisible();
    await expect(page.getByText("$116.10")).toBeVisible();
    await checkPage(page, testInfo, "90-cart-discount");

    await page.getByRole("link", { name: "Check out" }).click();
    await expect(page.getByText("Shipping and tax are added once you give the address.")).toBeVisible();
    await page.getByLabel("Email").fill(`priced-${stamp}@example.com`);
    await page.getByLabel("Full name").fill("Tove Tax");
    await page.getByLabel("Address", { exact: true }).fill("1 Harbour Lane");
    await page.getByLabel("City").fill("Harbour");
    await page.getByLabel("Postal code").fill("100");
    await page.getByLabel("Country").fill(country);
    // The destination's methods, cheapest first and chosen; express instead.
    const methods = page.getByRole("group", { name: "Shipping method" });
    await expect(methods.getByLabel(new RegExp(`^Post ${stamp}`))).toBeChecked();
    await methods.getByLabel(new RegExp(`^Express ${stamp}`)).check();
    // 12900 − 1290 = 11610, 24 % tax 2786.4 -> 2786; shipping 1500 + 360 tax: $162.56.
    const totals = page.getByRole("definition");
    await expect(totals.filter({ hasText: "$15.00" })).toBeVisible();
    await expect(totals.filter({ hasText: "$31.46" })).toBeVisible();
    await expect(totals.filter({ hasText: "$162.56" })).toBeVisible();
    await checkPage(page, testInfo, "91-checkout-priced");
    await page.getByRole("button", { name: "Place the order" }).click();
    await expect(page).toHaveURL(/\/orders\/[0-9a-f]{24}$/);
    await expect(page.getByRole("button", { name: "Pay $162.56" })).toBeVisible();
    await expect(page.getByText(`Discount (${code})`)).toBeVisible();
    await expect(page.getByText(`Shipping (Express ${stamp})`)).toBeVisible();
    await checkPage(page, testInfo, "92-order-priced");
    await page.getByRole("button", { name: "Pay $162.56" }).click();
    await expect(page.getByText("Status: Paid")).toBeVisible();
  } finally {
    for (const path of made.reverse()) await request.delete(`/api/v1/admin/${path}`, { headers });
  }
  expect(problems).toEqual([]);
});
