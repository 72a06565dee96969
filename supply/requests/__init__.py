"""Urgent supply requests: a firm answer per line now, with the stock held for the project."""
