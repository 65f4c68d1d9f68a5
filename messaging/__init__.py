"""Reaching the patient: the outbox of messages, their schedule and senders.

`messaging` sits above `followup` and `clinic`: it is told of every visit
change through `followup.changes` (registered in `MessagingConfig.ready`)
and writes or cancels the messages due, in the transaction of the change.
Neither of them imports `messaging`.
"""
