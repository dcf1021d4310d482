"""The pricing domain: pure values and functions, no I/O (rules, turnover windows, resolution)."""
