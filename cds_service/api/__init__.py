"""The only package that imports FastAPI: routes, body parsing, error mapping."""
