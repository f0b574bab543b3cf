"""bem `GET /events`: the KSUID-style IDs (`ksuid`)."""
