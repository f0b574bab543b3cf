"""What both APIs share: reading an events page, the error policy's one extra rule, backoff strategies,
the API budget's policy, and the checkpointing cursor base with progress logging."""
