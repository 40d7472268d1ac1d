/** A variant's option values ("size M, color blue"), as cart and order lines show them. */
export function optionsLabel(options: Record<string, string> | undefined): string {
  return Object.entries(options ?? {})
    .map(([name, value]) => `${name} ${value}`)
    .join(", ");
}

export function OptionsText({ options }: { options: Record<string, string> | undefined }) {
  const label = optionsLabel(options);
  return label ? <span className="line-options"> ({label})</span> : null;
}
