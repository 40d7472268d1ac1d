// The category tree flattened for a <select>: every category, indented under its parent.
import type { components } from "../api/schema";

export type CategoryNode = components["schemas"]["CategoryNode"];

export interface CategoryOption {
  id: string;
  slug: string;
  name: string;
  depth: number;
  label: string;
  parentId: string | null;
  hasChildren: boolean;
}

export function flattenTree(nodes: CategoryNode[], depth = 0, parentId: string | null = null): CategoryOption[] {
  return nodes.flatMap((node) => [
    {
      id: node.id,
      slug: node.slug,
      name: node.name,
      depth,
      label: `${"— ".repeat(depth)}${node.name}`,
      parentId,
      hasChildren: node.children.length > 0,
    },
    ...flattenTree(node.children, depth + 1, node.id),
  ]);
}
