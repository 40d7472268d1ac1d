// Forgot password: the page asks for the address, the mail links back to this app, the reset
// page takes a new password (the API's objection beside the field), and it logs in.
import { expect, test } from "@playwright/test";
import { checkPage, mailTo, watchPage } from "./helpers";

test("a shopper who forgot the password gets a link and sets a new one", async ({ page, request, baseURL }, testInfo) => {
  const problems = watchPage(page);
  const email = `forgetful-${testInfo.project.name}-${Date.now()}@example.com`;
  const registered = await request.post("/api/v1/auth/register", {
    data: { email, password: "Original-Pass-42", name: "Fran Forgetful" },
  });
  expect(registered.status()).toBe(201);

  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByText(`If an account exists for ${email}`)).toBeVisible();
  await checkPage(page, testInfo, "20-forgot-password");

  const mail = await mailTo(email, /reset/i);
  const link = new RegExp(`${baseURL}/reset-password\\?token=\\S+`).exec(mail.text)?.[0];
  expect(link, mail.text).toBeDefined();
  await page.goto(link!);
  await expect(page.getByRole("heading", { level: 1, name: "Choose a new password" })).toBeVisible();
  await page.getByLabel("New password").fill("aaaaaaaaaaaa");
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page.getByLabel("New password")).toHaveAttribute("aria-invalid", "true");
  await checkPage(page, testInfo, "21-reset-invalid");
  await page.getByLabel("New password").fill("Brand-New-Pass-42");
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page.getByText("Your password is changed")).toBeVisible();

  await page.getByRole("status").getByRole("link", { name: "Log in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("Brand-New-Pass-42");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();
  expect(problems).toEqual([]);
});
