"""The creative fund: productions, revenue imports, allocation and royalty statements."""
