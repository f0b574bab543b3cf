"""bem `GET /events`: its whole read decided in one place (`reading`), the positions it resumes from
(`position`), its state and the shapes earlier versions saved (`state`), the CDK's cursor around it
(`cursor`), the manifest's thin adapters (`components`), and the KSUID-style IDs (`ksuid`)."""
