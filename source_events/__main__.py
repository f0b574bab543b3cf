from source_events.run import run

run()
