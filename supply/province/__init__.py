"""The province's central matching (省公司集中匹配): every city's agreement-stock requirement plan
matched against the provincial framework agreements with the city engine (docs/province.md)."""
