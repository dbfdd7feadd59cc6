"""The fixed names of the local account and its stack, shared by the local cloud, the in-process runtime and the
commands. A module of its own, importing nothing, so that a command finds its cloud without importing the runtime
(yaml, the template reader) or the server side (moto, duckdb)."""

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
STACK_NAME = "shiftflow-local"
NOTIFICATIONS_QUEUE = f"{STACK_NAME}-notifications"  # the local inbox every topic delivers to
