"""Route registrations. Each `register_*` adds routes to a resolver; the functions' app.py files pick theirs,
and the OpenAPI document is built by registering all of them on one throwaway resolver."""
