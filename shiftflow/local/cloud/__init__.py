"""The local cloud: one long-lived process per project folder owns the offline stack, every command is its client.

- ``client``: what a command needs (import-light: no moto, no duckdb): find the running cloud from its endpoint file,
  start one in the background when none answers, stop it.
- ``server``: the process itself: the LocalRuntime's assembly (moto, the patches, template.yaml deployed, the Data API
  emulator, the handlers in-process) served on one 127.0.0.1 endpoint.
- ``wsgi``: the HTTP side: moto's WSGI app, with Redshift Data API requests handed to the emulator.
- ``durable_tables``: every DynamoDB write on disk before the call that made it returns.
- ``durable_executions``: Step Functions executions and their history on disk; those a stop or kill interrupted
  are recorded ABORTED ("the local cloud stopped") and their status change routed (the heal fails their guards).
- ``durable_inbox``: notifications delivered and not yet read, and the messages of the template's queues.
- ``events``: Step Functions and Data API status change events, EventBridge rules with Lambda targets.
- ``deliveries``: events on their way to Lambda targets, with AWS's retries and dead-letter queues, on disk until done.
- ``schedules``: the template's schedules, time compressed (`shiftflow up --schedules`); ``cron`` their cron().
- The Data API's statements are kept on disk by the emulator itself (shiftflow.dataapi.store_files).
- The handlers' logs are in moto's CloudWatch Logs and in `<state>/logs/events.jsonl` (shiftflow.local.function_logs),
  put back by the next cloud within each group's retention.
- ``files``: atomic file replacement (a crash never leaves half a file).
"""
