"""Stock: every write of a product's stock fields, the ledger, low-stock alerts.

Split by use case (DESIGN.md, rule 12); callers import the module that owns what they need:
- stock.py     every write of a product's stock fields: orders' takes and returns, sets,
               thresholds, opening stock, the admin's adjustments; the ledger row and the
               low-stock alert claim go with each one
- alerts.py    which update claims a low-stock alert, and the email to the admins
- errors.py    InsufficientStock (409), the one refusal for missing stock, and its Shortage
- reads.py     the admin's reads: the stock ledger and the low-stock list
- products.py  an admin's product create and edit, the catalog's fields and the stock's
               in one transaction
- demo.py      seeding the demo shop with each product's opening stock
The admin's routes are app/admin/inventory.py.
"""
