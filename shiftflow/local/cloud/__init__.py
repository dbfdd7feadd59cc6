"""The local cloud: one long-lived process per project folder owns the offline stack, every command is its client.

- ``client``: what a command needs (import-light: no moto, no duckdb): find the running cloud from its endpoint file,
  start one in the background when none answers, stop it.
- ``server``: the process itself: the LocalRuntime's assembly (moto, the patches, template.yaml deployed, the Data API
  emulator, the handlers in-process) served on one 127.0.0.1 endpoint.
- ``wsgi``: the HTTP side: moto's WSGI app, with Redshift Data API requests handed to the emulator.
- ``durable_tables``: every DynamoDB write on disk before the call that made it returns.
- ``recovery``: what a stopped or killed cloud left running is recorded as aborted, its guards Failed.
- ``files``: atomic file replacement (a crash never leaves half a file).
"""
