// Labelled inputs with the API's message for that field beside them (errors[].loc).
import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useId,
} from "react";

interface Described {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: string | undefined;
}

function Frame({
  id,
  label,
  error,
  hint,
  children,
}: Described & { id: string; children: (props: { "aria-invalid"?: true; "aria-describedby"?: string }) => ReactNode }) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(" ");
  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {children({
        ...(error ? { "aria-invalid": true as const } : {}),
        ...(describedBy ? { "aria-describedby": describedBy } : {}),
      })}
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

type FieldProps = Described & Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "name">;

export function Field({ label, name, error, hint, ...input }: FieldProps) {
  const id = useId();
  return (
    <Frame id={id} label={label} name={name} error={error} hint={hint}>
      {(aria) => <input id={id} name={name} {...aria} {...input} />}
    </Frame>
  );
}

type TextAreaProps = Described & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id" | "name">;

export function TextAreaField({ label, name, error, hint, ...input }: TextAreaProps) {
  const id = useId();
  return (
    <Frame id={id} label={label} name={name} error={error} hint={hint}>
      {(aria) => <textarea id={id} name={name} {...aria} {...input} />}
    </Frame>
  );
}

type SelectProps = Described &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, "id" | "name"> & { children: ReactNode };

export function SelectField({ label, name, error, hint, children, ...input }: SelectProps) {
  const id = useId();
  return (
    <Frame id={id} label={label} name={name} error={error} hint={hint}>
      {(aria) => (
        <select id={id} name={name} {...aria} {...input}>
          {children}
        </select>
      )}
    </Frame>
  );
}
