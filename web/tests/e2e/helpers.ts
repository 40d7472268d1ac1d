import AxeBuilder from "@axe-core/playwright";
import { type Page, type TestInfo, expect } from "@playwright/test";

export const inboxUrl = (): string => {
  const url = process.env.SHOP_INBOX_URL;
  if (!url) throw new Error("SHOP_INBOX_URL is unset");
  return url;
};

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

/** The first mail to `address` whose subject matches, waiting for the app's outbox to send it. */
export async function mailTo(address: string, subject: RegExp): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        const response = await fetch(`${inboxUrl()}/messages`);
        const messages = (await response.json()) as Mail[];
        found = messages.find(
          (mail) => mail.to.includes(address.toLowerCase()) && subject.test(mail.subject),
        );
        return Boolean(found);
      },
      { timeout: 20_000, message: `no mail to ${address} matching ${subject}` },
    )
    .toBe(true);
  return found!;
}

/** Every page the journeys see: fail on Content-Security-Policy violations and page errors. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) {
      problems.push(`CSP: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

/** axe-core on the page as it stands (no serious or critical violation), and a screenshot. */
export async function checkPage(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.waitForLoadState("networkidle");
  await expect(page.getByRole("status").filter({ hasText: /^Loading/ })).toHaveCount(0);
  const results = await new AxeBuilder({ page }).analyze();
  const blocking = results.violations.filter(
    (violation) => violation.impact === "serious" || violation.impact === "critical",
  );
  expect(
    blocking.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    `accessibility of ${name}`,
  ).toEqual([]);
  await page.screenshot({
    path: `test-results/screenshots/${testInfo.project.name}/${name}.png`,
    fullPage: true,
  });
}

/** Opens `path`, which asks for a login, and logs in there (landing back on `path`). */
export async function loginAs(page: Page, path: string, email: string, password: string): Promise<void> {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(new RegExp(`${path.replace(/[?]/g, "\\?")}$`));
}
