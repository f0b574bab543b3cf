from source_events.entrypoint import main

main()
