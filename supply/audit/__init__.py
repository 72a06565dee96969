"""Reading the audit trail: filtered pages and an Excel export (the table is supply.core.audit)."""
