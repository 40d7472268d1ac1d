// Money is minor units plus an ISO 4217 code; the number of minor digits comes from Intl.

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string): Intl.NumberFormat {
  const code = currency.toUpperCase();
  let format = formatters.get(code);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: "currency", currency: code });
    formatters.set(code, format);
  }
  return format;
}

export function minorDigits(currency: string): number {
  return formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(amount: number, currency: string): string {
  return formatter(currency).format(amount / 10 ** minorDigits(currency));
}

/** A price typed by a person ("12.50") in minor units, or null when it is not one. */
export function parseMoney(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const match = /^\s*(\d{1,9})(?:[.,](\d*))?\s*$/.exec(text);
  if (!match) return null;
  const fraction = (match[2] ?? "").padEnd(digits, "0");
  if (fraction.length > digits) return null;
  return Number(match[1]) * 10 ** digits + Number(fraction || "0");
}
