"""库存与定额: the physical reserve against its quota with what holds take, the framework
agreements against their execution band, vendor consignment by supplier, and their Excel files.

The reads are in `supply.stock.queries`, the workbooks in `supply.stock.export`, the shapes and
filters in `supply.stock.models`; the quota catalog itself (versions, changes, confirmation) is
`catalogs.reserve`'s.
"""
