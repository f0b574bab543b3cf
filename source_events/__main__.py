from source_events.cli import main

main()
