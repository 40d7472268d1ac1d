// A form's submission: busy while it runs, the API's problem (in words and by field) after.
import { useCallback, useState } from "react";
import type { ApiProblem } from "../api/problem";
import { asProblem } from "./useLoad";

export interface Action {
  busy: boolean;
  error: ApiProblem | null;
  fields: Record<string, string>;
  /** Runs `work`; true when it succeeded. A second press while busy is ignored. */
  run(work: () => Promise<void>): Promise<boolean>;
  clear(): void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiProblem | null>(null);
  const run = useCallback(async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (problem) {
      setError(asProblem(problem));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(null), []);
  return { busy, error, fields: error?.fieldErrors ?? {}, run, clear };
}

/** A form's text value, trimmed. */
export function textOf(form: FormData, name: string): string {
  return String(form.get(name) ?? "").trim();
}
