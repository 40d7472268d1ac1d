import type { ReactNode } from "react";
import type { ApiProblem } from "../api/problem";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function ErrorNotice({ error, retry }: { error: ApiProblem; retry?: () => void }) {
  return (
    <div className="notice notice-error" role="alert">
      <p>{error.message}</p>
      {retry && error.status !== 404 && error.status !== 403 ? (
        <button type="button" className="button-secondary" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Notice({ children, kind = "info" }: { children: ReactNode; kind?: "info" | "success" }) {
  return (
    <div className={`notice notice-${kind}`} role="status" aria-live="polite">
      {children}
    </div>
  );
}

/** A wide table that scrolls sideways on a phone: focusable, so the keyboard can scroll it. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    // Focusable so the keyboard can scroll it (axe: scrollable-region-focusable).
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
