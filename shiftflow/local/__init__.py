"""Offline runtime of Shiftflow: the same template, ASL and handlers, executed in-process on moto.

Kept import-light on purpose: importing ``shiftflow.local`` must not import moto. The patches that make moto's
Step Functions interpreter run our state machines live in ``shiftflow.local.moto_gaps``, one module per gap.
"""
