"""The clients subgraph's GraphQL layer."""

#: the service name on this subgraph's userErrors metric
SERVICE = "clients"
