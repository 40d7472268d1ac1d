// Problems (RFC 9457, application/problem+json) turned into words a shopper can act on.
import type { components } from "./schema";

export type Problem = components["schemas"]["Problem"];

/** An API call that did not succeed: an HTTP problem, or no answer at all (status 0). */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem | null;
  /** Seconds to wait before trying again (429's Retry-After). */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem | null, retryAfter: number | null) {
    super(describeProblem(status, problem, retryAfter));
    this.name = "ApiProblem";
    this.status = status;
    this.code = problem?.code ?? (status === 0 ? "network_error" : "error");
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** Validation messages by field path (`"password"`, `"address.city"`), for forms. */
  get fieldErrors(): Record<string, string> {
    return fieldErrors(this.problem);
  }
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.status === "number" && typeof record.code === "string";
}

/** Retry-After as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return seconds <= 1 ? "a second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "a minute" : `${minutes} minutes`;
}

export function describeProblem(
  status: number,
  problem: Problem | null,
  retryAfter: number | null,
): string {
  if (status === 0) return "The shop cannot be reached. Check your connection and try again.";
  if (status === 429) {
    return retryAfter === null
      ? "Too many attempts. Please wait a little and try again."
      : `Too many attempts. Please wait ${formatWait(retryAfter)} and try again.`;
  }
  if (status >= 500) {
    const reference = problem?.request_id ? ` (reference ${problem.request_id})` : "";
    return `Something went wrong on our side. Please try again in a moment${reference}.`;
  }
  if (status === 422 && problem?.code === "validation_error") {
    return "Some fields need attention: see the messages beside them.";
  }
  if (problem?.detail) return problem.detail;
  if (status === 401) return "Please log in.";
  if (status === 403) return "You are not allowed to do that.";
  if (status === 404) return "Not found.";
  return "The request did not succeed.";
}

/** `errors[].loc` to a field path: body/query prefixes dropped, the rest joined by dots. */
export function fieldErrors(problem: Problem | null): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const error of problem?.errors ?? []) {
    const loc = error.loc.filter((part, index) => !(index === 0 && (part === "body" || part === "query")));
    const key = loc.length ? loc.join(".") : "_";
    fields[key] ??= readable(error.msg);
  }
  return fields;
}

/** pydantic's message without its "Value error, " prefix, starting with a capital. */
function readable(message: string): string {
  const text = message.replace(/^(Value error|Assertion failed), /, "");
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** The problem of a failed response, whatever its body held. */
export async function problemFromResponse(response: Response, body?: unknown): Promise<ApiProblem> {
  let parsed = body;
  if (parsed === undefined) {
    try {
      parsed = await response.clone().json();
    } catch {
      parsed = null;
    }
  }
  return new ApiProblem(
    response.status,
    isProblem(parsed) ? parsed : null,
    parseRetryAfter(response.headers.get("Retry-After")),
  );
}
