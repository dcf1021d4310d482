"""The report generator (issue 13, DESIGN section 12): a reporting read model fed by every service's
events, report definitions run over it, and the files (CSV, XLSX, PDF) made from a run's table."""
