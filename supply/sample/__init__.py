"""The bundled Weihai sample: catalogs (`catalogs.py`, from `materials.csv` and `weihai.md` beside
it) and a week of projects (`week.py`), generated from a seed — estimates for a demo and for tests,
marked so. Nothing at run time depends on them; `gridsupply demo`, `catalogs sample` and
`projects sample` write or load them.
"""
