"""The public catalog: products, search and filters, the category tree.

Split by use case (DESIGN.md, rule 12); callers import the module that owns what they need:
- slugs.py       slugify, free slugs, inserting under one
- categories.py  the category tree: reads and the admin's writes
- listing.py     product lists: the catalog (filters, search, sorts) and the admin's list
- products.py    one product: its reads and the writes of its own fields
- ratings.py     the product's rating (written by reviews)
- search.py      search: `$text` on a server's text index, or regular expressions
- cache.py       HTTP caching of the public reads (ETags, the catalog version)
- stock_fields.py  the stock fields' bounds, the default low-stock threshold, stock status
- demo.py, demo_art.py  the demo shop's data and its product art
- routes.py      the public catalog routes (the admin's are app/admin/catalog.py)
A product's stock fields are written by app/inventory/stock.py alone; creating a product with
its opening stock, and edits that change stock, are app/inventory/products.py.
"""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("catalog", __name__)
tag_blueprint(bp, ["catalog"])

from app.catalog import routes  # noqa: E402,F401
