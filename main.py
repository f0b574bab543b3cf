import sys

from source_events.entrypoint import main

if __name__ == "__main__":
    main(sys.argv[1:])
