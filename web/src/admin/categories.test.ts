import { describe, expect, it } from "vitest";
import { type CategoryNode, flattenTree } from "./categories";

const node = (id: string, name: string, children: CategoryNode[] = []): CategoryNode => ({
  id,
  name,
  slug: name.toLowerCase(),
  description: null,
  children,
});

describe("flattenTree", () => {
  it("lists every category depth first, indented under its parent", () => {
    const tree = [node("a", "Clothing", [node("b", "Tops", [node("c", "Shirts")]), node("d", "Bottoms")]), node("e", "Home")];
    expect(flattenTree(tree).map((option) => [option.label, option.depth, option.parentId, option.hasChildren])).toEqual([
      ["Clothing", 0, null, true],
      ["— Tops", 1, "a", true],
      ["— — Shirts", 2, "b", false],
      ["— Bottoms", 1, "a", false],
      ["Home", 0, null, false],
    ]);
  });

  it("gives nothing for an empty tree", () => {
    expect(flattenTree([])).toEqual([]);
  });
});
