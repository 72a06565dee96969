"""The province's central matching (省公司集中匹配)."""
