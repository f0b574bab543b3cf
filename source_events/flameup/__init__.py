"""Flameup `GET /workspaces/{workspaceId}/events`: how the stream pages (`paging`), how its time range is cut
into windows that checkpoint (`windows`), and its cursor and state (`cursor`)."""
