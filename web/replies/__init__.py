"""`/desk/replies/`: the worklist's *Replies* tab (`views`)."""
