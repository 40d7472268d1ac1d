"""Sales reports for the admin (issue 20), aggregated by the database server.

- sales.py  `sales()` (gross, refunds, net per day, week or month) and `top_products()`,
            in the store's time zone (STORE_TIMEZONE); `to_csv()` for `Accept: text/csv`
The admin's routes are app/admin/reports.py.
"""
