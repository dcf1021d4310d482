"""CRM activities service: contact history, scheduled meetings, competitor tracking."""
