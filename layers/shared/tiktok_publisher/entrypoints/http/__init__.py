"""HTTP routes on the Powertools resolver: one module per route set, the error mapping, the OpenAPI
document."""
