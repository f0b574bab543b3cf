"""What the unit and integration tests share: builders of configs, catalogs, states and events, and runners
of the real entrypoint (`builders`); emulators on ephemeral ports, configs that point at them, and a clock
that moves only when the connector sleeps (`emulator`); the real CLI in a subprocess (`cli`)."""
