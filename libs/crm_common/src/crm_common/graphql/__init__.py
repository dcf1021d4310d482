"""GraphQL helpers shared by the subgraphs: userErrors, keyset connections, limits, masking."""
