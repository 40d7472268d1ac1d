// Per-route data loading with its three states: loading, error (in words), ready.
import { useCallback, useEffect, useState } from "react";
import { ApiProblem } from "../api/problem";

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; error: ApiProblem }
  | { state: "ready"; data: T };

export function asProblem(error: unknown): ApiProblem {
  return error instanceof ApiProblem ? error : new ApiProblem(0, null, null);
}

/**
 * Runs `load` when `key` changes (and on `retry`); a stale answer never overwrites a newer one.
 * With `keep`, a reload keeps showing the data it has (no flash of "Loading…" after a save).
 */
export function useLoad<T>(load: () => Promise<T>, key: string, keep = false): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    if (!keep) setLoaded({ state: "loading" });
    load().then(
      (data) => current && setLoaded({ state: "ready", data }),
      (error: unknown) => current && setLoaded({ state: "error", error: asProblem(error) }),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render; `key` says when its inputs changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, attempt]);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return [loaded, retry];
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Shop` : "Shop";
  }, [title]);
}
