"""CRM pricing service: discount rules and price resolution. Only the pure domain is built yet."""
