import sys

from source_events.run import run

if __name__ == "__main__":
    run(sys.argv[1:])
