"""What the unit and integration tests share: builders of configs, catalogs, states and events, and runners
of the real entrypoint (`builders`); the one way to build a test's emulator (`emulator.running_emulator`),
seeded histories, configs that point at an emulator, the requests it received (`emulator.requests_of`),
what a sync must and may emit while data changes (`emulator.sync_bounds`), and a clock that moves only when
the connector sleeps (`emulator`); the real CLI in a subprocess (`cli`)."""
